"""The student-facing check helpers: three outcomes and targeted messages that hide the answer."""

import numpy as np
import pytest

from cs231n import checks


def stub():
    raise NotImplementedError()


@pytest.fixture(autouse=True)
def fresh_section():
    checks.section("test", total=3)


def message_of(call):
    with pytest.raises(checks.CheckFailed) as info:
        call()
    return str(info.value)


def test_not_attempted_is_its_own_outcome():
    with pytest.raises(checks.NotAttempted, match="not attempted"):
        checks.array("f", stub, np.ones(3))


def test_correct_result_passes_and_prints_to_stdout_only(capsys):
    out = checks.array("f", lambda: np.array([1.0, 2.0]), [1.0, 2.0])
    assert np.array_equal(out, [1.0, 2.0])
    captured = capsys.readouterr()
    assert "[ok] f" in captured.out and captured.err == ""


@pytest.mark.parametrize(
    ("actual", "expected", "phrase"),
    [
        (None, np.ones(2), "return"),
        (np.ones((3, 2)), np.ones((2, 3)), "transpose"),
        (np.ones(4), np.ones(3), "shape"),
        (np.array([np.nan, 1.0]), np.ones(2), "NaN"),
        (np.array([2.0, 4.0, 6.0]), np.array([1.0, 2.0, 3.0]), "constant factor (every entry larger"),
        (np.array([-1.0, -2.0]), np.array([1.0, 2.0]), "opposite sign"),
        (np.array([1.0, 4.0, 9.0]), np.array([1.0, 2.0, 3.0]), "square root"),
        (np.array([1.5, 2.5, 3.5]), np.array([1.0, 2.0, 3.0]), "additive error"),
        (np.array([1.6125]), np.array([0.6125]), "too large"),
        (np.array([1e-4, 4e-6]), np.array([1e-2, 2e-3]), "looks squared"),
        (np.array([[1.0, 2.0], [3.0, 5.0]]), np.array([[1.0, 2.0], [3.0, 4.0]]), "1 of 4 entries"),
    ],
)
def test_wrong_results_get_specific_messages(actual, expected, phrase):
    msg = message_of(lambda: checks.array("f", lambda: actual, expected))
    assert phrase in msg


def test_hints_reveal_no_number_the_expected_value_follows_from():
    # an additive error of +1 on a scalar is neither called a constant factor nor given a factor
    msg = message_of(lambda: checks.value("loss", lambda: 0.6125 + 1.0, 0.6125))
    assert "factor" not in msg and "2.6" not in msg and "too large" in msg
    msg = message_of(lambda: checks.array("f", lambda: 2.633 * np.array([0.5, 1.5]), np.array([0.5, 1.5])))
    assert "constant factor" in msg and "2.63" not in msg
    # tiny values square to tiny values: "looks squared" only where squaring changed them
    from cs231n.verdicts import diagnose

    msg = diagnose(np.array([5e-4, 2e-4]), np.array([1e-2, 2e-2]), rtol=1e-5, atol=1e-3)
    assert msg is not None and "squared" not in msg


def test_messages_never_print_the_expected_values():
    expected = np.array([0.123456, 7.654321, 3.141593])
    msg = message_of(lambda: checks.array("f", lambda: np.array([5.0, 1.0, 2.0]), expected))
    for v in expected:
        assert f"{v:.3f}" not in msg and f"{v:.4g}" not in msg


def test_mutated_input_is_reported():
    x = np.arange(3.0)

    def mutate():
        x[0] = 99.0
        return np.zeros(3)

    # by default a function may work in place (any correct implementation keeps its points) ...
    checks.array("f", mutate, np.zeros(3), inputs={"x": x})
    assert np.array_equal(x, np.arange(3.0)), "the check must give the input its values back"
    # ... and where the notebook asks for a pure function, changing the input fails the check
    assert "leaves x unchanged" in message_of(
        lambda: checks.array("f", mutate, np.zeros(3), inputs={"x": x}, pure=True))
    assert np.array_equal(x, np.arange(3.0)), "the check must give the input its values back"


def test_input_changed_before_an_exception_is_restored_too():
    x = np.arange(4.0).reshape(2, 2)

    def mutate_then_fail():
        np.negative(x, out=x)
        raise ValueError("student bug")

    with pytest.raises(ValueError):
        checks.run("f", mutate_then_fail, inputs={"x": x})
    assert np.array_equal(x, np.arange(4.0).reshape(2, 2))


def test_gradients_name_only_the_wrong_parameter():
    num = {"W1": np.ones((2, 2)), "b1": np.ones(2), "W2": np.ones(3)}
    ana = {"W1": np.ones((2, 2)), "b1": np.ones(2), "W2": 2 * np.ones(3)}
    msg = message_of(lambda: checks.gradients("net", ana, num))
    assert "only in W2" in msg and "W1 " in msg
    checks.gradients("net", num, num)


def test_equal_close_to_at_least_holds():
    checks.equal("labels", lambda: np.array([1, 2]), [1, 2])
    assert "1 of 2" in message_of(lambda: checks.equal("labels", lambda: [1, 3], [1, 2]))
    checks.close_to("loss", 2.30, np.log(10), 0.05, "a uniform guess gives")
    assert "not within" in message_of(lambda: checks.close_to("loss", 3.0, np.log(10), 0.05, "x"))
    checks.at_least("acc", 0.5, 0.4, "why")
    assert "below" in message_of(lambda: checks.at_least("acc", 0.3, 0.4, "why"))
    assert "not set yet" in message_of(lambda: checks.at_least("acc", -1.0, 0.4, "why")), "the release's placeholder"

    def broken():
        assert 1 == 2, "one is not two"

    assert "one is not two" in message_of(lambda: checks.holds("prop", broken))


def test_summary_counts_and_mentions_hidden_tests(capsys):
    checks.array("a", lambda: np.ones(1), np.ones(1))
    with pytest.raises(checks.CheckFailed):
        checks.array("b", lambda: np.zeros(1), np.ones(1))
    checks.summary()
    out = capsys.readouterr().out
    assert "1 of 3 visible checks passed" in out and "failing: b" in out
    assert "1 not run yet" in out and "hidden tests" in out


def test_errors_from_student_code_keep_their_traceback():
    def buggy():
        return np.ones(2) @ np.ones(3)

    with pytest.raises(ValueError) as info:
        checks.array("f", buggy, np.ones(1))
    assert any("while checking f" in note for note in info.value.__notes__)


def test_with_stand_ins_swaps_names_for_the_call_only():
    namespace = {"step": lambda x: x + 1}

    def loop(x):  # looks "step" up in namespace, as notebook code looks names up in globals()
        return namespace["step"](namespace["step"](x))

    assert checks.with_stand_ins({"step": lambda x: 10 * x}, lambda: loop(2), namespace) == 200
    assert loop(2) == 4, "the original is back after the call"
    with pytest.raises(ZeroDivisionError):
        checks.with_stand_ins({"step": lambda x: x / 0, "helper": abs}, lambda: loop(1), namespace)
    assert loop(2) == 4 and "helper" not in namespace, "restored after an error; new names removed"


def step(x):
    return x + 1


def test_with_stand_ins_defaults_to_the_callers_namespace():
    """In a notebook the caller is the notebook's code, so its globals are the notebook's names."""
    def twice(x):
        return step(step(x))

    assert checks.with_stand_ins({"step": lambda x: 10 * x}, lambda: twice(2)) == 200
    assert twice(2) == 4 and step(0) == 1


def test_load_expected_reads_arrays_and_names_a_missing_file(tmp_path, monkeypatch):
    (tmp_path / "expected").mkdir()
    (tmp_path / "expected" / "nb.json").write_text('{"h": [[0.5, -1.25], [2, 3]], "labels": [1, 2, 3], "loss": 2.5}')
    monkeypatch.chdir(tmp_path)  # a notebook runs in its own folder
    values = checks.load_expected("expected/nb.json")
    assert values["h"].shape == (2, 2) and values["h"].dtype == np.float64 and values["h"][1, 0] == 2.0
    assert values["labels"].dtype.kind == "i" and values["loss"].shape == ()
    with pytest.raises(FileNotFoundError, match="expected/other.json"):
        checks.load_expected("expected/other.json")
