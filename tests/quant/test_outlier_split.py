"""LLM.int8()-style outlier split of the Q/K/V input (convert/outlier_split.py): exact in float, it picks
the stress checkpoint's planted channels and none on the demo, and the onnx int8 graph computes Q/K/V
in int8 around them."""

import numpy as np
import pytest

from crest_edge.convert.outlier_split import outlier_channels, split_linear
from crest_edge.devtools.outliers import OUTLIER_CHANNELS
from crest_edge.formats.artifact import open_artifact
from crest_edge.formats.onnx import MODEL_FILE, RECIPES

torch = pytest.importorskip("torch")


def test_split_linear_is_exact_in_float():
    torch.manual_seed(0)
    linear = torch.nn.Linear(64, 48)
    x = torch.randn(3, 7, 64)
    x[..., [5, 40]] *= 80.0  # two outlier channels
    split = split_linear(linear, [40, 5])
    with torch.no_grad():
        assert torch.allclose(split(x), linear(x), atol=1e-4, rtol=1e-6)
        assert float(split.main.weight[:, [5, 40]].abs().max()) == 0.0  # no longer widens the int8 scales


def test_outlier_channels_rule():
    flat = np.ones(32)
    assert outlier_channels(flat, ratio=2.0, most=8) == []
    spiky = flat.copy()
    spiky[[3, 9, 20]] = [50.0, 3.0, 1.9]
    assert outlier_channels(spiky, ratio=2.0, most=8) == [3, 9]
    assert outlier_channels(spiky, ratio=2.0, most=1) == [3]


def _qkv_int8(path) -> dict[str, bool]:
    """Each Q/K/V MatMul of the graph -> whether it reads int8 weights (a DequantizeLinear of an int8 tensor)."""
    onnx = pytest.importorskip("onnx")
    graph = onnx.load(str(path / MODEL_FILE)).graph
    producers = {out: node for node in graph.node for out in node.output}
    found = {}
    for node in graph.node:
        if node.op_type == "MatMul" and "/attention/self/" in node.name and "/MatMul" in node.name:
            if any(part in node.name for part in ("/query/", "/key/", "/value/")):
                source = producers.get(node.input[1])
                found[node.name] = source is not None and source.op_type == "DequantizeLinear"
    return found


@pytest.mark.slow
def test_stress_onnx_int8_splits_the_planted_channels(stress_artifacts):
    path = stress_artifacts("onnx", "int8")
    recipe = open_artifact(path).manifest.quantization_recipe
    float_layers = RECIPES["int8"]["float_layers"]["qkv"]
    for layer, channels in recipe["qkv_outliers"]["channels"].items():
        assert int(layer) not in float_layers
        assert sorted(channels) == sorted(OUTLIER_CHANNELS), layer
    quantized = _qkv_int8(path)
    for name, is_int8 in quantized.items():
        layer = int(name.split("/layer.")[1].split("/")[0])
        if "/outliers/" in name or layer in float_layers:
            assert not is_int8, name
        elif "/main/" in name:
            assert is_int8, name
    assert sum(quantized.values()) == 3 * (len(recipe["qkv_outliers"]["channels"]))


def test_demo_onnx_int8_splits_nothing(demo_artifacts):
    recipe = open_artifact(demo_artifacts("onnx", "int8")).manifest.quantization_recipe
    assert not any(recipe["qkv_outliers"]["channels"].values())


def test_q_k_v_share_one_split(stress_artifacts):
    """One Mul and one Gather per split layer feed Q, K and V (and the last layer's query its own)."""
    onnx = pytest.importorskip("onnx")
    path = stress_artifacts("onnx", "int8")
    channels = open_artifact(path).manifest.quantization_recipe["qkv_outliers"]["channels"]
    graph = onnx.load(str(path / MODEL_FILE)).graph
    splits = [n for n in graph.node if "/split/" in n.name and n.op_type in ("Mul", "Gather")]
    layers = sum(1 for found in channels.values() if found)
    assert len(splits) == 2 * (layers + 1), [n.name for n in splits]
