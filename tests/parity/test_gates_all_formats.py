"""Every format and precision of the demo checkpoint passes its precision class's gates on the
project corpus (the check CTranslate2's own tests make, with one tolerance per precision)."""
import pytest

from crest_edge.parity import check_candidate, make_report
from crest_edge.parity.report import failures

THREADS = 1  # as in conftest.py

# every --quant the converters offer; CT2 types this CPU cannot compute in are skipped, with the reason
CT2 = ("int8", "int16", "float32", "float16", "bfloat16", "int8_float16", "int8_bfloat16")
GGUF = ("f32", "f16", "bf16", "q8_0", "q6_k", "q5_k_m", "q4_k_m", "q4_0")
ONNX = ("fp32", "fp16", "int8", "int4")
TARGETS = [("ct2", q) for q in CT2] + [("gguf", q) for q in GGUF] + [("onnx", q) for q in ONNX]


def skip_reason(to: str, quant: str) -> str | None:
    if to != "ct2":
        return None
    import ctranslate2

    supported = ctranslate2.get_supported_compute_types("cpu")
    if quant not in supported:
        return f"CTranslate2 cannot compute in {quant} on this CPU (supported: {', '.join(sorted(supported))})"
    return None


@pytest.mark.parametrize("to,quant", TARGETS, ids=[f"{t}-{q}" for t, q in TARGETS])
def test_artifact_passes_its_gates(to, quant, build_artifact, parity_reference):
    reason = skip_reason(to, quant)
    if reason:
        pytest.skip(reason)
    entry = check_candidate(build_artifact(to, quant), parity_reference, device="cpu", threads=THREADS)
    assert "error" not in entry, entry.get("error")
    assert entry["device"] == "cpu"
    assert entry["overall"]["n"] == len(parity_reference.rows)
    assert entry["passed"], "\n".join(failures(make_report(parity_reference, [entry])))
