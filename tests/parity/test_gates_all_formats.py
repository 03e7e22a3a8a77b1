"""Every format and precision of the demo checkpoint passes its precision class's gates on the
project corpus (the check CTranslate2's own tests make, with one tolerance per precision)."""

import pytest
from openvino_marks import marks_for

from crest_edge.parity import check_candidate, make_report
from crest_edge.parity.report import failures
from crest_edge.registry import FORMATS

THREADS = 1  # as in conftest.py

# every --quant the converters offer; CT2 types this CPU cannot compute in are skipped, with the reason
TARGETS = [
    pytest.param(fmt, quant, marks=marks_for(fmt, quant), id=f"{fmt}-{quant}")
    for fmt, spec in FORMATS.items()
    for quant in spec.quants
]
pytestmark = pytest.mark.slow


def skip_reason(to: str, quant: str) -> str | None:
    if to != "ct2":
        return None
    import ctranslate2

    supported = ctranslate2.get_supported_compute_types("cpu")
    if quant not in supported:
        return f"CTranslate2 cannot compute in {quant} on this CPU (supported: {', '.join(sorted(supported))})"
    return None


@pytest.mark.parametrize("to,quant", TARGETS)
def test_artifact_passes_its_gates(to, quant, build_artifact, parity_reference):
    reason = skip_reason(to, quant)
    if reason:
        pytest.skip(reason)
    entry = check_candidate(build_artifact(to, quant), parity_reference, device="cpu", threads=THREADS)
    assert "error" not in entry, entry.get("error")
    assert entry["device"] == "cpu"
    assert entry["overall"]["n"] == len(parity_reference.rows)
    assert entry["passed"], "\n".join(failures(make_report(parity_reference, [entry])))
