#!/usr/bin/env bash
# Create (or refresh) the course environment in .venv: Python packages, the cs231n package with its
# Cython extension, and the nbgrader extensions for JupyterLab / Notebook 7.
#
#   ./setup_env.sh              set up, or do nothing quickly if already up to date
#   ./setup_env.sh --with-data  also download the datasets (CIFAR-10)
#   ./setup_env.sh --force      reinstall even if up to date
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
venv="$here/.venv"
stamp="$venv/.setup-stamp"
with_data=0
force=0
for arg in "$@"; do
  case "$arg" in
    --with-data) with_data=1 ;;
    --force) force=1 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "setup_env.sh: unknown option '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

explain() { printf '\n%s\n\n' "$*" | fold -s -w 100 >&2; }

# 1. A Python that nbgrader 0.9 supports (>= 3.11).
python=""
for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
  [ -n "$candidate" ] || continue
  if command -v "$candidate" >/dev/null 2>&1 &&
     "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
    python="$(command -v "$candidate")"
    break
  fi
done
if [ -z "$python" ]; then
  found="$(python3 --version 2>/dev/null || echo 'no python3 at all')"
  explain "setup_env.sh: this kit needs Python 3.11 or newer (nbgrader 0.9 requires it), and found \
${found}. Install a newer Python (on Debian/Ubuntu: 'sudo apt install python3.11 python3.11-venv'; \
on macOS: 'brew install python@3.12'; anywhere: pyenv or conda), then run this script again, \
optionally as 'PYTHON=/path/to/python3.12 ./setup_env.sh'."
  exit 1
fi

# 2. Up to date already? The stamp records a hash of everything that shapes the environment.
fingerprint="$("$python" - <<'PY'
import glob, hashlib
h = hashlib.sha256()
for name in ["requirements.txt", "pyproject.toml", "setup.py", *sorted(glob.glob("cs231n/*.pyx"))]:
    with open(name, "rb") as f:
        h.update(name.encode() + f.read())
print(h.hexdigest())
PY
)"
if [ "$force" = 0 ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$fingerprint" ] && [ -x "$venv/bin/python" ]; then
  touch "$stamp"  # newer than its inputs, so make does not ask again
  echo "setup_env.sh: .venv is up to date ($("$venv/bin/python" --version))."
else
  if ! command -v cc >/dev/null 2>&1 && ! command -v gcc >/dev/null 2>&1 && ! command -v clang >/dev/null 2>&1; then
    explain "setup_env.sh: no C compiler found, so the Cython fast layers cannot be built. The kit \
still works: convolution falls back to a slower pure-NumPy version. To get the fast version, install a \
compiler ('sudo apt install build-essential' on Debian/Ubuntu, 'xcode-select --install' on macOS) and \
run './setup_env.sh --force'."
  fi
  if [ ! -x "$venv/bin/python" ]; then
    echo "setup_env.sh: creating .venv with $("$python" --version)"
    if ! "$python" -m venv "$venv"; then
      explain "setup_env.sh: could not create a virtual environment with $python. On Debian/Ubuntu \
install the venv module ('sudo apt install python3-venv' or python3.11-venv), then run this script again."
      exit 1
    fi
  fi
  pip=("$venv/bin/python" -m pip --disable-pip-version-check)
  echo "setup_env.sh: installing requirements.txt (first run: about a minute)"
  quiet_pip_noise() { grep -v "is ignored: it is neither a file nor a directory" >&2 || true; }
  if ! "${pip[@]}" install -q -r requirements.txt 2> >(quiet_pip_noise); then
    explain "setup_env.sh: installing the Python packages failed (see pip's message above). The most \
common cause is no network access to the package index: connect, or set PIP_INDEX_URL to a mirror \
you can reach, then run './setup_env.sh' again. Nothing needs to be cleaned up first."
    exit 1
  fi
  echo "setup_env.sh: installing the cs231n package (editable) and building its Cython extension"
  "${pip[@]}" install -q --no-build-isolation -e . 2> >(quiet_pip_noise) || true
  "$venv/bin/python" -c 'import cs231n' || { explain "setup_env.sh: the cs231n package did not install; see the messages above."; exit 1; }
  # nbgrader's Jupyter Server extension (its lab/notebook extensions install with the wheel).
  "$venv/bin/jupyter" server extension enable --sys-prefix nbgrader >/dev/null 2>&1 || true
  echo "$fingerprint" > "$stamp"
fi

backend="$("$venv/bin/python" -c 'from cs231n import fast_layers as f; print(f.BACKEND)' 2>/dev/null || echo "not available yet")"
echo "setup_env.sh: environment ready in .venv"
echo "  python:       $("$venv/bin/python" --version 2>&1)"
echo "  nbgrader:     $("$venv/bin/python" -c 'import nbgrader; print(nbgrader.__version__)' 2>/dev/null || echo missing)"
echo "  fast layers:  $backend"
echo "  activate it:  source .venv/bin/activate"

if [ "$with_data" = 1 ]; then
  "$venv/bin/python" -m cs231n.data download cifar10
fi
