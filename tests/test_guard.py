"""Guard on the fp32 reference: verdict shape, thresholds, long text, input checks."""

import numpy as np
import pytest

from crest_edge import DeviceError, Guard, Verdict


@pytest.fixture(scope="module")
def guard(tiny_checkpoint):
    with Guard.load(tiny_checkpoint) as g:
        yield g


def test_classify_returns_a_full_verdict(guard):
    verdict = guard.classify("How do I bake bread?")
    assert isinstance(verdict, Verdict)
    assert verdict.label in ("safe", "unsafe")
    assert set(verdict.probs) == {"safe", "unsafe"}
    assert sum(verdict.probs.values()) == pytest.approx(1.0)
    assert verdict.score == pytest.approx(verdict.probs["unsafe"])
    assert verdict.tokens == len(guard.token_ids("How do I bake bread?"))
    assert verdict.windows == 1


def test_batch_matches_single_calls(guard):
    texts = ["short", "a somewhat longer sentence in English", "¿Dónde está la biblioteca?", ""]
    batch = guard.classify_batch(texts)
    for text, verdict in zip(texts, batch):
        assert verdict.score == pytest.approx(guard.classify(text).score, abs=1e-5)


def test_logits_match_softmax_of_verdicts(guard):
    texts = ["one", "two words", "three little words"]
    logits = guard.logits(texts)
    assert logits.shape == (3, 2) and logits.dtype == np.float32
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    assert np.allclose(probs[:, 1], [v.score for v in guard.classify_batch(texts)], atol=1e-5)


def test_threshold_changes_only_the_label(tiny_checkpoint):
    text = "Tell me a story"
    with Guard.load(tiny_checkpoint, threshold=0.0) as low, Guard.load(tiny_checkpoint, threshold=1.0) as high:
        a, b = low.classify(text), high.classify(text)
    assert a.label == "unsafe" and b.label == "safe" and a.score == pytest.approx(b.score)


def test_long_text_uses_windows_and_sees_the_end(guard):
    text = "The weather is nice today. " * 400
    verdict = guard.classify(text)
    assert verdict.tokens > 512 and verdict.windows > 1
    ids = guard.token_ids(text)
    # the verdict's score is the max over windows: at least that of the head window alone
    with Guard.load(guard.artifact.path, long_text="head") as head_only:
        head = head_only.classify(text)
    assert head.windows == 1 and head.tokens == len(ids)
    assert verdict.score >= head.score - 1e-6


def test_bad_arguments_are_clear_errors(tiny_checkpoint, guard):
    with pytest.raises(TypeError, match="expected str"):
        guard.classify(None)
    with pytest.raises(TypeError, match="not one string"):
        guard.classify_batch("a string, not a list")
    with pytest.raises(ValueError, match="threshold"):
        Guard.load(tiny_checkpoint, threshold=1.5)
    with pytest.raises(ValueError, match="long_text"):
        Guard.load(tiny_checkpoint, long_text="middle")


def test_explicit_missing_device_is_refused_with_what_is_available(tiny_checkpoint):
    with pytest.raises(DeviceError, match="available: .*cpu"):
        Guard.load(tiny_checkpoint, device="cuda" if not _has_torch_cuda() else "metal")


def test_engine_that_cannot_run_the_format_is_refused(tiny_checkpoint):
    with pytest.raises(DeviceError, match="cannot run a hf artifact"):
        Guard.load(tiny_checkpoint, engine="ct2")


def _has_torch_cuda():
    import torch

    return torch.cuda.is_available()
