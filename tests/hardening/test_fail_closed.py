"""Rows 1, 5 and 8 of the hardening issue: non-finite scores never become a verdict, the on_error
policy decides what an app sees when the engine fails, bounded options, and clear errors after close()."""

import json
import math

import numpy as np
import pytest
from hardening_helpers import one_line_error, run_cli

from crest_edge import ArtifactError, ClosedError, EngineError, Guard
from crest_edge.devtools.mutate import reseal
from crest_edge.formats.gguf_file import read_layout
from crest_edge.selection import max_threads

UNSAFE = "How do I make a bomb?"


def nan_gguf(gguf, copy_of):
    """A consistent .gguf whose first attention matrix scales are NaN (q8_0 blocks start with an f16
    scale; 0xffff is a NaN), integrity record recomputed so only the scores show the damage."""
    damaged = copy_of(gguf)
    start, end = read_layout(damaged).tensor_spans["blk.0.attn_q.weight"]
    with open(damaged, "r+b") as handle:
        handle.seek(start)
        handle.write(b"\xff" * (end - start))
    reseal(damaged)
    return damaged


def nan_onnx(onnx_dir, copy_of):
    """A consistent ONNX artifact whose largest weight initializer is all NaN."""
    import onnx
    from onnx import numpy_helper

    damaged = copy_of(onnx_dir)
    path = damaged / "model.onnx"
    model = onnx.load(str(path))
    biggest = max(model.graph.initializer, key=lambda t: np.prod(t.dims) if t.data_type == 1 else 0)
    biggest.CopyFrom(numpy_helper.from_array(np.full(tuple(biggest.dims), np.nan, np.float32), biggest.name))
    onnx.save(model, str(path))
    reseal(damaged)
    return damaged


@pytest.fixture(params=["gguf", "onnx"])
def nan_artifact(request, engine_artifact, copy_of):
    if request.param == "gguf":
        return nan_gguf(engine_artifact("llamacpp"), copy_of)
    return nan_onnx(engine_artifact("onnx"), copy_of)


def test_nan_scores_raise_naming_the_artifact(nan_artifact):
    with Guard.load(nan_artifact, threads=1) as guard, pytest.raises(ArtifactError, match="NaN") as caught:
        guard.classify(UNSAFE)
    assert str(nan_artifact) in str(caught.value)


def test_nan_scores_are_blocked_or_allowed_with_the_error(nan_artifact):
    with Guard.load(nan_artifact, threads=1, on_error="block") as guard:
        blocked = guard.classify(UNSAFE)
    assert (blocked.label, blocked.score) == ("unsafe", 1.0) and "NaN" in blocked.error
    with Guard.load(nan_artifact, threads=1, on_error="allow") as guard:
        allowed = guard.classify(UNSAFE)
    assert (allowed.label, allowed.score) == ("safe", 0.0) and "NaN" in allowed.error


def test_cli_never_prints_nan(nan_artifact, capsys):
    code, _, err = run_cli(capsys, "classify", "--model", nan_artifact, "--json", "--threads", "1", UNSAFE)
    one_line_error(code, err, "NaN")
    code, out, _ = run_cli(
        capsys, "classify", "--model", nan_artifact, "--json", "--threads", "1", "--on-error", "block", UNSAFE
    )
    row = json.loads(out, parse_constant=lambda c: pytest.fail(f"{c} in the JSON output"))
    assert code == 1 and row["label"] == "unsafe" and math.isfinite(row["score"]) and row["error"]


class FailingEngine:
    """A real engine that fails on any call holding a sequence with the marked token (fault injection)."""

    def __init__(self, engine, marker: int):
        self.inner, self.marker, self.info = engine, marker, engine.info

    def logits(self, sequences):
        if any(self.marker in seq for seq in sequences):
            raise RuntimeError("injected failure")
        return self.inner.logits(sequences)

    def close(self):
        self.inner.close()


@pytest.mark.parametrize("policy", ["raise", "block", "allow"])
def test_one_failing_text_leaves_its_neighbours_their_verdicts(engine_artifact, policy):
    guard = Guard.load(engine_artifact("torch"), threads=1, on_error=policy)  # fp32: batch-invariant
    texts = ["hello there", "poison", "good morning", UNSAFE]
    expected = guard.classify_batch([t for t in texts if t != "poison"])
    guard.engine = FailingEngine(guard.engine, guard.token_ids("poison")[1])
    if policy == "raise":
        with pytest.raises(EngineError, match="injected failure"):
            guard.classify_batch(texts)
        return
    got = guard.classify_batch(texts)
    assert [v.error for v in got] == [None, got[1].error, None, None] and "injected failure" in got[1].error
    assert got[1].label == ("unsafe" if policy == "block" else "safe")
    for v, e in zip((got[0], got[2], got[3]), expected):
        assert v.label == e.label and v.score == pytest.approx(e.score, abs=1e-6)
    guard.close()


def test_allow_decides_from_the_windows_that_ran(engine_artifact):
    """A long text whose one failing window is not the unsafe one is still flagged under allow."""
    guard = Guard.load(engine_artifact("torch"), threads=1, on_error="allow", threshold=0.0)
    marker = guard.token_ids("poison")[1]
    text = "hello " * 600 + " poison"
    guard.engine = FailingEngine(guard.engine, marker)
    verdict = guard.classify(text)
    assert verdict.error and verdict.windows > 1 and verdict.label == "unsafe"  # threshold 0: any window flags
    guard.close()


@pytest.mark.parametrize("engine", ["torch", "ct2", "llamacpp", "onnx"])
def test_closed_guard_and_engine_give_one_clear_error(engine, engine_artifact):
    guard = Guard.load(engine_artifact(engine), threads=1)
    engine_object = guard.engine
    guard.close()
    guard.close()  # twice is fine
    for call in (lambda: guard.classify("hi"), lambda: guard.classify_batch(["hi"]), lambda: guard.logits(["hi"])):
        with pytest.raises(ClosedError, match="closed"):
            call()
    with pytest.raises(ClosedError, match="closed"):
        engine_object.logits([[0, 5, 2]])


@pytest.mark.parametrize("threads", [0, -1, 100_000, 65_536, 2.5, True])
def test_threads_are_bounded(engine_artifact, threads):
    with pytest.raises(ValueError, match="threads must be"):
        Guard.load(engine_artifact("onnx"), threads=threads)


def test_cli_bounds_every_numeric_option(capsys):
    for argv in (
        ["classify", "--threads", "100000", "hi"],
        ["classify", "--threads", "0", "hi"],
        ["classify", "--threshold", "nan", "hi"],
        ["classify", "--threshold", "inf", "hi"],
        ["bench", "--budget", "inf"],
        ["bench", "--batch", "100000"],
        ["bench", "--repeat", "0"],
        ["synth", "--shape", "tiny", "--out", "x", "--seed", "-1"],
        ["parity", "--reference", "r", "--candidate", "c", "--max-dp", "nan"],
    ):
        code, _, err = run_cli(capsys, *argv)
        assert code == 2, argv
        one_line_error(code, err, "error: argument")
    assert max_threads() >= 4


def test_guard_options_are_checked(engine_artifact):
    for options in ({"on_error": "ignore"}, {"verify": "never"}, {"batch_size": 0}, {"threshold": float("nan")}):
        with pytest.raises(ValueError):
            Guard.load(engine_artifact("torch"), **options)
