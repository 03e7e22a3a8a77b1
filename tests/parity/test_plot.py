"""`crest-edge parity --plot`: the picture is drawn from the report alone, one point per language and candidate."""

import numpy as np
import pytest

from crest_edge.errors import CrestEdgeError
from crest_edge.parity import compare, make_report
from crest_edge.parity.plot import plot_parity
from crest_edge.parity.run import Reference

pytest.importorskip("matplotlib")


def _report(tmp_path):
    rng = np.random.default_rng(0)
    rows = [{"text": f"t{i}", "lang": lang, "script": "Latn", "label": "unknown"} for i, lang in enumerate("ab" * 20)]
    ref_logits = rng.normal(size=(len(rows), 2)).astype(np.float32)
    ref = Reference(
        {"name": "c.jsonl", "path": "c.jsonl", "sha256": "0" * 64, "rows": rows}, ref_logits, ["safe", "unsafe"], {}
    )
    entries = []
    for name, noise in (("close.gguf", 1e-3), ("far", 0.5)):
        entry = {"path": str(tmp_path / name), "class": "8-bit", "passed": True, "gates": []}
        entry.update(compare(rows, ref_logits, ref_logits + rng.normal(scale=noise, size=ref_logits.shape), ref.labels))
        entries.append(entry)
    return make_report(ref, entries + [{"path": "broken", "error": "cannot open", "gates": [], "passed": False}])


def test_plot_writes_a_png(tmp_path):
    out = tmp_path / "parity.png"
    plot_parity(_report(tmp_path), out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_of_only_failed_candidates_is_a_clear_error(tmp_path):
    report = _report(tmp_path)
    report["candidates"] = report["candidates"][-1:]
    with pytest.raises(CrestEdgeError, match="every candidate failed"):
        plot_parity(report, tmp_path / "x.png")


def test_unwritable_plot_path_is_a_clear_error(tmp_path):
    with pytest.raises(CrestEdgeError, match="cannot write the plot"):
        plot_parity(_report(tmp_path), tmp_path / "missing-dir" / "x.png")
