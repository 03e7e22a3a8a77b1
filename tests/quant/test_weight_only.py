"""int8's weight-only variants, the candidate auto-8bit falls back to where static int8 activations are
too coarse: ONNX's (8-bit MatMulNBits, float32 compute; real pretrained weights: crest_edge/formats/onnx.py)
and OpenVINO's (nncf.compress_weights, 8-bit weights per output channel, float compute; the demo). Each
passes the 8-bit gates on the stress checkpoint, its scores do not depend on batch neighbours, and its
manifest says which recipe made it; on the demo OpenVINO's auto-8bit picks it (its static int8 reaches
max |Δp| 0.062 on the seed corpus)."""

import pytest
from quant_helpers import batch_vs_single

from crest_edge.autoquant import convert_auto
from crest_edge.convert import convert
from crest_edge.errors import ConversionError
from crest_edge.formats.artifact import open_artifact
from crest_edge.parity import check_candidate, make_report
from crest_edge.parity.report import failures

pytestmark = pytest.mark.slow
NEEDS = {"onnx": ("onnxruntime", "onnx_ir"), "openvino": ("openvino", "nncf")}
ACTIVATIONS = {"onnx": "float32 (accuracy_level 0)", "openvino": "float"}


@pytest.fixture(scope="module", params=sorted(NEEDS))
def fmt(request):
    for module in NEEDS[request.param]:
        pytest.importorskip(module)
    return request.param


@pytest.fixture(scope="module")
def weight_only(fmt, stress_checkpoint, tmp_path_factory):
    out = tmp_path_factory.mktemp("weight-only") / f"{fmt}-int8-weight-only"
    return convert(stress_checkpoint, out, fmt, "int8", options={"recipe": "weight-only"})


def test_passes_the_8bit_gates_on_the_stress_checkpoint(weight_only, stress_reference):
    entry = check_candidate(weight_only, stress_reference, device="cpu", threads=1)
    assert "error" not in entry, entry.get("error")
    assert entry["passed"], "\n".join(failures(make_report(stress_reference, [entry])))


def test_is_batch_invariant(weight_only, mixed_length_texts):
    assert batch_vs_single(weight_only, mixed_length_texts) <= 1e-4


def test_manifest_names_the_recipe(fmt, weight_only):
    manifest = open_artifact(weight_only).manifest
    assert manifest.quantization == "int8"
    method = manifest.quantization_recipe
    assert method["recipe"] == "int8:weight-only" and method["activations"] == ACTIVATIONS[fmt]


def test_an_unknown_recipe_is_a_conversion_error(fmt, stress_checkpoint, tmp_path):
    with pytest.raises(ConversionError, match=f"{fmt} int8 has no recipe 'fast'; variants: weight-only"):
        convert(stress_checkpoint, tmp_path / "x", fmt, "int8", options={"recipe": "fast"})
    assert not (tmp_path / "x").exists()


def test_openvino_auto_8bit_falls_back_to_it_on_the_demo(demo_checkpoint, tmp_path):
    for module in (*NEEDS["openvino"], "transformers"):
        pytest.importorskip(module)
    out = convert_auto(demo_checkpoint, tmp_path / "ov-auto", "openvino", "auto-8bit", threads=1)
    selection = open_artifact(out).manifest.selection
    tried = {t["candidate"]: t for t in selection["tried"]}
    assert not tried["int8"]["passed"] and tried["int8"]["max_dp"] > 0.025
    assert selection["chosen"] == "int8[recipe=weight-only]" and tried["int8[recipe=weight-only]"]["passed"]
