"""ONNX int8's weight-only variant (8-bit MatMulNBits, float32 compute), the candidate auto-8bit falls back
to where static int8 activations break (real pretrained weights: crest_edge/formats/onnx.py): it passes
the 8-bit gates on the stress checkpoint, its scores do not depend on batch neighbours, and its manifest
says which recipe made it."""

import pytest
from quant_helpers import batch_vs_single

from crest_edge.convert import convert
from crest_edge.errors import ConversionError
from crest_edge.formats import onnx as fmt
from crest_edge.formats.artifact import open_artifact
from crest_edge.parity import check_candidate, make_report
from crest_edge.parity.report import failures

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx_ir")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def weight_only(stress_checkpoint, tmp_path_factory):
    out = tmp_path_factory.mktemp("weight-only") / "onnx-int8-weight-only"
    return convert(stress_checkpoint, out, "onnx", "int8", options={"recipe": "weight-only"})


def test_passes_the_8bit_gates_on_the_stress_checkpoint(weight_only, stress_reference):
    entry = check_candidate(weight_only, stress_reference, device="cpu", threads=1)
    assert "error" not in entry, entry.get("error")
    assert entry["passed"], "\n".join(failures(make_report(stress_reference, [entry])))


def test_is_batch_invariant(weight_only, mixed_length_texts):
    assert batch_vs_single(weight_only, mixed_length_texts) <= 1e-4


def test_manifest_names_the_recipe(weight_only):
    manifest = open_artifact(weight_only).manifest
    assert manifest.quantization == "int8"
    method = manifest.quantization_recipe
    assert method["recipe"] == "int8:weight-only" and method["activations"] == "float32 (accuracy_level 0)"
    assert "int8:weight-only" in fmt.RECIPES


def test_an_unknown_recipe_is_a_conversion_error(stress_checkpoint, tmp_path):
    with pytest.raises(ConversionError, match="onnx int8 has no recipe 'fast'; variants: weight-only"):
        convert(stress_checkpoint, tmp_path / "x", "onnx", "int8", options={"recipe": "fast"})
    assert not (tmp_path / "x").exists()
