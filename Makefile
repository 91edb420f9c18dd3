# The course kit's entry points. `make demo` and `make test` set the environment up first if needed.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.setup-stamp
DEPS   := requirements.txt pyproject.toml setup.py $(wildcard cs231n/*.pyx)

.PHONY: setup demo check test lint results bench grade clean

setup: $(STAMP)

$(STAMP): $(DEPS) setup_env.sh
	./setup_env.sh

demo: $(STAMP)
	$(PY) -m cs231n.grading.tools.demo

check: $(STAMP)
	$(PY) -m cs231n.grading.tools.demo --check

test: $(STAMP)
	$(PY) -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check cs231n tests benchmarks
	$(PY) -m cs231n.grading.tools.lint

results: $(STAMP)
	$(PY) benchmarks/run_notebooks.py --write $(sort $(dir $(wildcard assignment*/*.ipynb)))

bench: $(STAMP)
	$(PY) benchmarks/bench_fast_layers.py

# Grade a whole class in parallel in the course folder (here): make grade ASSIGNMENT=assignment1 WORKERS=8
ASSIGNMENT ?= assignment1
WORKERS    ?= $(shell nproc 2>/dev/null || echo 2)
grade: $(STAMP)
	$(PY) -m cs231n.grade autograde $(ASSIGNMENT) --workers $(WORKERS) $(GRADE_ARGS)

clean:
	rm -rf build release submitted autograded feedback gradebook.db demo .pytest_cache
