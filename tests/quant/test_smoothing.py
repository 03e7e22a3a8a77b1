"""SmoothQuant rescaling (convert/smoothing.py) is mathematically equivalent: the fp32 logits of the
rescaled model equal the checkpoint's, in numpy, in transformers (as the ONNX export traces it) and in
CTranslate2; and the numpy activation probe it is measured with is the model transformers runs."""

import numpy as np
import pytest

from crest_edge.convert import activations, smoothing
from crest_edge.convert.calibration import calibration_sequences, calibration_texts
from crest_edge.data import parity_corpus_path, read_jsonl
from crest_edge.formats.checkpoint import open_checkpoint

FP32 = 1e-5  # the fp32 budget the rescaling may spend: float rounding only


@pytest.fixture(scope="module")
def demo(demo_checkpoint):
    checkpoint = open_checkpoint(demo_checkpoint)
    tensors = checkpoint.validated_tensors()
    sequences = calibration_sequences(checkpoint, 16)
    return checkpoint, tensors, sequences, activations.input_absmax(checkpoint, tensors, sequences)


def logits(checkpoint, tensors, sequences, input_scales=None):
    return np.array([activations.forward(checkpoint, tensors, s, input_scales=input_scales) for s in sequences])


def test_calibration_comes_from_the_seed_corpus_only():
    parity = {row["text"] for row in read_jsonl(parity_corpus_path())}
    texts = calibration_texts()
    assert len(texts) == len(set(texts)) > 100
    assert not parity & set(texts)


def test_numpy_probe_matches_transformers(demo):
    from crest_edge.formats.artifact import open_artifact
    from crest_edge.runtimes import torch_ref

    checkpoint, tensors, sequences, _ = demo
    engine = torch_ref.open_engine(open_artifact(checkpoint.path), "cpu", 1)
    expected = np.concatenate([engine.logits([s]) for s in sequences])
    np.testing.assert_allclose(logits(checkpoint, tensors, sequences), expected, atol=FP32, rtol=0)


@pytest.mark.parametrize("alpha", [0.5, 0.8])
@pytest.mark.parametrize("sites", [smoothing.FOLDED_IN_WEIGHTS, activations.SITES], ids=["weights-only", "all"])
def test_rescaled_model_gives_the_same_logits(demo, alpha, sites):
    checkpoint, tensors, sequences, absmax = demo
    smoothed = smoothing.smooth(tensors, absmax, alpha, sites)
    assert set(site for _, site in smoothed.input_scales) == set(sites) - set(smoothing.FOLDED_IN_WEIGHTS)
    changed = [name for name in tensors if not np.array_equal(tensors[name], smoothed.tensors[name])]
    assert changed, "nothing was rescaled"
    before = logits(checkpoint, tensors, sequences)
    after = logits(checkpoint, smoothed.tensors, sequences, smoothed.input_scales)
    np.testing.assert_allclose(after, before, atol=FP32, rtol=0)


def test_rescaling_flattens_the_activations_it_targets(demo):
    """After rescaling, each site's per-channel maxima are closer together: the point of it."""
    checkpoint, tensors, sequences, absmax = demo
    smoothed = smoothing.smooth(tensors, absmax, 0.5)
    after = activations.input_absmax(checkpoint, smoothed.tensors, sequences, smoothed.input_scales)
    for key in absmax:
        spread = lambda peaks: peaks.max() / np.median(peaks)
        assert spread(after[key]) < spread(absmax[key]), key


def test_torch_model_with_scale_ops_gives_the_same_logits(demo):
    """The ONNX converter's form: rescaled weights in transformers, the input scales as traced ops."""
    torch = pytest.importorskip("torch")
    from crest_edge.convert import onnx_export

    checkpoint, tensors, sequences, absmax = demo
    model = onnx_export.load_torch_model(checkpoint)
    ids = torch.tensor([sequences[0]])
    with torch.inference_mode():
        before = model(input_ids=ids).logits.numpy()
        onnx_export.smooth_torch_model(model, smoothing.smooth(tensors, absmax, 0.5))
        after = model(input_ids=ids).logits.numpy()
    np.testing.assert_allclose(after, before, atol=FP32, rtol=0)


def test_unknown_site_is_refused(demo):
    _, tensors, _, absmax = demo
    with pytest.raises(ValueError, match="unknown smoothing sites"):
        smoothing.smooth(tensors, absmax, 0.5, ("layernorm",))
