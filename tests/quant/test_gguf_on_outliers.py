"""Every GGUF quantization of the outlier stress checkpoint passes its precision class's gates on the
project corpus (crest_edge.parity), and the manifest says which per-tensor types made it."""

import pytest

from crest_edge.formats import gguf as fmt
from crest_edge.formats.artifact import open_artifact
from crest_edge.parity import check_candidate, make_report
from crest_edge.parity.report import failures

THREADS = 1  # as in conftest.py
pytest.importorskip("gguf")
pytest.importorskip("llama_cpp")


@pytest.mark.slow
@pytest.mark.parametrize("quant", list(fmt.QUANTS))
def test_gguf_passes_its_gate_on_outliers(quant, build_stress_artifact, stress_reference):
    entry = check_candidate(build_stress_artifact("gguf", quant), stress_reference, device="cpu", threads=THREADS)
    assert "error" not in entry, entry.get("error")
    assert entry["passed"], "\n".join(failures(make_report(stress_reference, [entry])))


def test_q8_0_keeps_layernorm_fed_and_ffn_down_weights_at_f16(build_stress_artifact):
    from gguf import GGMLQuantizationType as T

    from crest_edge.formats.gguf_file import read_layout

    path = build_stress_artifact("gguf", "q8_0")
    types = {name: T(t).name for name, (_, t) in read_layout(path).tensors.items()}
    for block in range(4):
        for name in ("attn_q", "attn_k", "attn_v", "ffn_up", "ffn_down"):
            assert types[f"blk.{block}.{name}.weight"] == "F16"
        assert types[f"blk.{block}.attn_output.weight"] == "Q8_0"
    recipe = open_artifact(path).manifest.quantization_recipe
    assert recipe == {"tensor_types": fmt.TYPE_RECIPES["q8_0"]}


def test_unknown_recipe_group_is_a_conversion_error(stress_checkpoint, tmp_path):
    from crest_edge.convert import gguf as gguf_convert
    from crest_edge.errors import ConversionError
    from crest_edge.formats.checkpoint import open_checkpoint

    checkpoint = open_checkpoint(stress_checkpoint)
    with pytest.raises(ConversionError, match="no such tensor group"):
        gguf_convert.write(checkpoint, checkpoint.validated_tensors(), tmp_path / "x.gguf", "q8_0", {"attn": "F16"})
    assert not (tmp_path / "x.gguf").exists()


# Whole-corpus and engine sweeps: the full run (make test) keeps them; make test-fast stays under a minute.
pytestmark = pytest.mark.slow
