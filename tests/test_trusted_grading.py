"""Trusted grading, piece by piece: the plain-data codec, the rules, the cell blocks the kernel never
sees, the observations checks make, and the grader's verdict on a cell (cs231n.grading.judge.judging).
The whole pipeline runs in real grading rounds in test_pipeline.py and test_tamper.py."""

import json

import numpy as np
import pytest

from cs231n import checks, verdicts
from cs231n.grading.judge.cells import CellFormatError, function_tree, split_judge, withhold_expected
from cs231n.grading.judge.judging import judge_cell, run_judge
from cs231n.plaindata import NotPlainData, decode, encode


# -- plain data -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [
    None, True, 3, 2.5, float("inf"), "text", [1, "a", None], (1, (2, 3)), {"a": 1, 2: "b", (1, "k"): [3]},
    np.arange(6.0).reshape(2, 3), np.array([True, False]), np.zeros((0, 4), dtype=np.int32), 1 + 2j,
    np.array(2.5), np.arange(12.0).reshape(3, 4).T,
    {"grads": {"W": np.ones((2, 2), dtype=np.float32), "b": np.zeros(2)}},
])
def test_plain_data_round_trips(value):
    back = decode(encode(value))
    assert verdicts._same(back, value)
    assert type(back) is type(value) or isinstance(value, np.ndarray)


def test_numpy_scalars_become_python_numbers_and_subclasses_plain_arrays():
    class Liar(np.ndarray):
        def __eq__(self, other):
            return True

    back = decode(encode({"x": np.float64(2.5), "n": np.int64(3), "a": np.zeros(3).view(Liar)}))
    assert type(back["x"]) is float and type(back["n"]) is int and type(back["a"]) is np.ndarray


@pytest.mark.parametrize("value", [object(), {1, 2}, np.array([object()]), np.array(["a", "b"]), {[1]: 2}
                                   if False else {frozenset(): 1}])
def test_values_that_are_not_plain_data_are_refused(value):
    with pytest.raises(NotPlainData):
        encode(value)


@pytest.mark.parametrize("text", [
    '{"__array__": {"dtype": "object", "shape": [1], "data": ""}}',
    '{"__array__": {"dtype": "float64", "shape": [2], "data": "AAAA"}}',
    '{"__array__": {"dtype": "float64", "shape": [-1], "data": ""}}',
    '{"__pickle__": "gASVAAAAAAAAAAA="}',
    '{"a": 1, "b": 2}',
    "[" * 5000 + "]" * 5000,
])
def test_decoding_refuses_anything_encode_cannot_write(text):
    with pytest.raises(ValueError):
        decode(text)


def test_decoding_refuses_text_over_the_size_limit():
    with pytest.raises(ValueError, match="larger"):
        decode(encode(np.zeros(1000)), max_bytes=100)


# -- rules ----------------------------------------------------------------------------------------------
def test_close_names_the_problem_without_the_expected_values():
    want = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert verdicts.judge(verdicts.close(), want + 1e-12, want) is None
    assert "transpose" in verdicts.judge(verdicts.close(), np.ones((2, 3)), np.ones((3, 2)))
    assert "None" in verdicts.judge(verdicts.close(), None, want)
    message = verdicts.judge(verdicts.close(), want * 3, want)
    assert "constant factor" in message and "4.0" not in message


def test_dict_rules_name_the_wrong_entry():
    want = {"W": np.ones(3), "b": np.zeros(2)}
    assert verdicts.judge(verdicts.close(), {"W": np.ones(3), "b": np.ones(2)}, want).startswith("b")
    assert "no entry for b" in verdicts.judge(verdicts.close(), {"W": np.ones(3)}, want)
    assert "only in b" in verdicts.judge(verdicts.rel_error(1e-7), {"W": np.ones(3), "b": np.ones(2)}, want)


def test_bounds_and_exact_rules():
    assert verdicts.judge(verdicts.at_least(0.3, "why"), 0.31) is None
    assert "below 0.3" in verdicts.judge(verdicts.at_least(0.3, "why"), 0.2)
    assert verdicts.judge(verdicts.at_most(1.0), [0.5]) is None
    assert verdicts.judge(verdicts.equal(), [1, 2, 3], np.array([1.0, 2.0, 3.0])) is None
    assert "1 of 3 entries" in verdicts.judge(verdicts.equal(), [1, 2, 4], np.array([1, 2, 3]))
    assert verdicts.judge(verdicts.equal(), ("l2", 5), ("l2", 5)) is None
    assert verdicts.judge(verdicts.equal(), ("l1", 5), ("l2", 5)) is not None


# -- blocks the kernel never sees ----------------------------------------------------------------------
def test_judge_blocks_are_split_off_with_line_numbers_kept():
    source = "x = 1\n### BEGIN JUDGE\nassert checks.observed['x'] == 1\n### END JUDGE\ny = 2"
    kernel, judge = split_judge(source)
    assert kernel.splitlines() == ["x = 1", "", "", "", "y = 2"]
    assert judge == "assert checks.observed['x'] == 1"
    with pytest.raises(CellFormatError):
        split_judge("### BEGIN JUDGE\nx = 1")


def test_expected_blocks_are_withheld():
    source = "a = 1\n### BEGIN EXPECTED\nwant = np.array([1.0,\n                 2.0])\nw2, w3 = 1, 2\n" \
             "### END EXPECTED\nchecks.array('f', f, want)"
    kernel, names = withhold_expected(source)
    assert names == ["want", "w2", "w3"] and "np.array" not in kernel and "1.0" not in kernel
    namespace = {}
    exec(kernel.replace("checks.array('f', f, want)", ""), namespace)
    assert namespace["want"] is checks.WITHHELD and namespace["w3"] is checks.WITHHELD
    assert len(kernel.splitlines()) == len(source.splitlines())


def test_function_tree_finds_the_last_definition_in_the_answer_cells():
    cells = ["def f(x):\n    return x", "%matplotlib inline\nclass A:\n    def f(self):\n        for i in []: pass"]
    tree = function_tree(cells, "f")
    assert tree is not None and any(type(n).__name__ == "For" for n in __import__("ast").walk(tree))
    assert function_tree(cells, "g") is None


# -- observations ---------------------------------------------------------------------------------------
def _observations(mode: str, body, supplies=None) -> dict:
    checks.begin_cell(mode, supplies)
    try:
        body()
    finally:
        out = json.loads(json.dumps(checks.finish_cell()))
        checks.begin_cell("student")
    return out


def test_checks_observe_results_and_judge_only_with_an_expected_value():
    got = _observations("grade", lambda: checks.array("f", lambda: np.ones(3)))  # hidden: no expected
    assert [o["name"] for o in got["observations"]] == ["f"] and "expected" not in got["observations"][0]
    with pytest.raises(checks.CheckFailed):  # visible: judged right there
        checks.begin_cell("student")
        checks.array("f", lambda: np.ones(3), np.zeros(3))
    checks.begin_cell("student")
    withheld = _observations("grade", lambda: checks.array("f", lambda: np.ones(3), checks.WITHHELD))
    assert withheld["observations"][0]["value"]["__array__"]["shape"] == [3]


def test_the_reference_run_records_expected_values_and_supplies():
    def body():
        checks.array("f", lambda: np.ones(2), np.ones(2))
        checks.supplied("cache", lambda: (np.zeros(2), 1e-5))

    got = _observations("reference", body)
    assert "expected" in got["observations"][0] and set(got["supplies"]) == {"cache"}
    in_kernel = {}
    _observations("grade", lambda: in_kernel.update(v=checks.supplied("cache", lambda: 1 / 0)), got["supplies"])
    assert isinstance(in_kernel["v"], tuple) and in_kernel["v"][1] == 1e-5  # make() never ran in the kernel


def test_a_stub_is_not_attempted_and_in_place_changes_are_undone():
    def stub():
        raise NotImplementedError

    checks.begin_cell("student")
    with pytest.raises(checks.NotAttempted):
        checks.array("f", stub, np.ones(2))
    x = np.ones(3)

    def changes(a):
        a[0] = 5.0
        return a.sum()

    checks.value("g", lambda: changes(x), 7.0, inputs={"x": x})  # not a requirement unless pure=...
    assert x[0] == 1.0
    with pytest.raises(checks.CheckFailed, match="leaves x unchanged"):
        checks.value("g", lambda: changes(x), 7.0, inputs={"x": x}, pure=True)


def test_either_passes_when_one_way_passes_and_records_every_way():
    def body():
        checks.either("both", ("first", lambda: checks.array("a", lambda: np.ones(2), np.zeros(2))),
                      ("second", lambda: checks.array("b", lambda: np.ones(2), np.ones(2))))

    got = _observations("student", body)
    ways = [(o["name"], o["way"]) for o in got["observations"]]
    assert ways == [("a", ["both", 0]), ("both: first raised", ["both", 0]), ("b", ["both", 1])]


# -- the grader's verdict on a cell ---------------------------------------------------------------------
def _record(name, value, rule, expected=None, way=None) -> dict:
    rec = {"name": name, "rule": rule, "value": json.loads(encode(value)), "way": way}
    if expected is not None:
        rec["expected"] = json.loads(encode(expected))
    return rec


def test_the_verdict_uses_the_reference_rule_and_value_not_the_kernels():
    ref = {"observations": [_record("d", np.ones(3), verdicts.close(1e-9, 1e-12))], "judge": None}
    lenient = _record("d", np.ones(3) * 1.1, verdicts.close(10.0, 10.0))  # a kernel that loosened the rule
    assert judge_cell(ref, {"observations": [lenient]}, []) is not None
    assert judge_cell(ref, {"observations": [_record("d", np.ones(3), verdicts.record())]}, []) is None
    assert "did not reach" in judge_cell(ref, None, [])
    assert "not checked" in judge_cell(ref, {"observations": []}, [])
    extra = [_record("d", np.ones(3), verdicts.record()), _record("x", 1, verdicts.record())]
    assert "does not make" in judge_cell(ref, {"observations": extra}, [])


def test_the_verdict_prefers_the_written_expected_value():
    ref = {"observations": [_record("d", np.ones(2), verdicts.close(), expected=np.zeros(2))], "judge": None}
    assert judge_cell(ref, {"observations": [_record("d", np.zeros(2), verdicts.record())]}, []) is None


def test_ways_one_is_enough():
    ref = {"observations": [_record("a", 1.0, verdicts.close(), way=["g", 0]),
                            _record("b", 2.0, verdicts.close(), way=["g", 1])], "judge": None}
    only_second = [_record("a", 5.0, verdicts.record(), way=["g", 0]),
                   _record("b", 2.0, verdicts.record(), way=["g", 1])]
    assert judge_cell(ref, {"observations": only_second}, []) is None
    neither = [_record("a", 5.0, verdicts.record(), way=["g", 0]),
               _record("b", 5.0, verdicts.record(), way=["g", 1])]
    assert "ways it is checked" in judge_cell(ref, {"observations": neither}, [])


def test_ways_failing_for_one_reason_say_it_once():
    same = verdicts.every_way_failed("f", ["f, with your cache: x: 2 of 3 entries are wrong.",
                                           "f, with the recommended cache: x: 2 of 3 entries are wrong."])
    assert same == "f: x: 2 of 3 entries are wrong. (the same in each of the 2 ways it is checked)"
    other = verdicts.every_way_failed("f", ["f, with your cache: x: is None.", "f, recommended: x: too large."])
    assert other.startswith("f: fails every way it is checked: (1) f, with your cache: x: is None.; (2)")


def test_source_rules_are_judged_on_the_submitted_answer_cells():
    rule = {"kind": "no_loops", "function": "f"}
    ref = {"observations": [_record("f has no loops", None, rule)], "judge": None}
    got = {"observations": [_record("f has no loops", None, rule)]}
    assert judge_cell(ref, got, ["def f(x):\n    return x * 2"]) is None
    assert "loop" in judge_cell(ref, got, ["def f(x):\n    return [v for v in x]"])
    assert "no definition" in judge_cell(ref, got, [])


def test_judge_blocks_run_in_the_grader_over_plain_data():
    code = "checks.require(checks.observed['best'] == checks.expected['best'], 'not the best one')"
    ref = {"observations": [_record("best", ("l2", 5), verdicts.record())], "judge": code}
    assert judge_cell(ref, {"observations": [_record("best", ("l2", 5), verdicts.record())]}, []) is None
    assert judge_cell(ref, {"observations": [_record("best", ("l1", 3), verdicts.record())]}, []) == "not the best one"
    # results the judge cannot read fail the test and never the grader
    assert "could not be checked" in run_judge("x = checks.observed['missing']", [])


def test_a_function_that_works_in_place_keeps_its_result():
    checks.begin_cell("student")
    x = np.ones(3)

    def scale_in_place(a):
        a *= 2
        return a

    assert np.array_equal(checks.array("h", lambda: scale_in_place(x), np.full(3, 2.0), inputs={"x": x}),
                          np.full(3, 2.0))
    assert np.array_equal(x, np.ones(3))


def test_a_dict_of_withheld_values_is_withheld():
    got = _observations("grade", lambda: checks.gradients("g", {"W": np.ones(2)}, {"W": checks.WITHHELD}))
    assert [o["name"] for o in got["observations"]] == ["g"]


def test_a_withheld_block_never_reads_its_expected_values_file(tmp_path, monkeypatch):
    source = ('### BEGIN EXPECTED\nexpected_values = checks.load_expected("expected/nb.json")\n'
              'want = {"x": np.array([1.0, 2.0]), "W": expected_values["want.W"]}\n### END EXPECTED\n')
    kernel, names = withhold_expected(source)
    assert names == ["expected_values", "want"] and "load_expected" not in kernel
    monkeypatch.chdir(tmp_path)  # no expected/ folder here: grading must not need it
    namespace = {}
    exec(kernel, namespace)
    assert namespace["want"] is checks.WITHHELD and namespace["expected_values"] is checks.WITHHELD


def test_a_written_expected_value_is_compared_to_its_eight_digits():
    """A value written with 8 significant digits cannot hold a result to 1e-10: against it the tolerance is
    at least 1e-6, in the notebook and in the grader; against the reference's own result it is as written."""
    exact = np.array([1.23456789012, -0.98765432109])
    written = np.array([1.2345679, -0.98765432])
    rule = verdicts.close(rtol=1e-10, atol=0)
    assert verdicts.judge(rule, exact, written) is not None
    assert verdicts.judge(verdicts.for_written(rule), exact, written) is None
    assert verdicts.judge(verdicts.for_written(rule), exact * (1 + 1e-5), written) is not None
    checks.array("written", lambda: exact, written, rtol=1e-10, atol=0)
    ref = {"observations": [_record("d", exact, rule, expected=written)], "judge": None}
    assert judge_cell(ref, {"observations": [_record("d", exact, verdicts.record())]}, []) is None
    full = {"observations": [_record("d", exact, rule)], "judge": None}
    assert judge_cell(full, {"observations": [_record("d", written, verdicts.record())]}, []) is not None
