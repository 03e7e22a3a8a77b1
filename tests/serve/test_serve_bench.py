"""bench/serve_load.py runs end to end and counts every request (a functional check, not a timing)."""

import json
from pathlib import Path

import pytest

pytest.importorskip("psutil")

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.mark.slow
def test_load_script_counts_every_request(served_artifact, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    import serve_load

    out = tmp_path / "load.json"
    code = serve_load.main(
        [
            "--model",
            str(served_artifact),
            "--clients",
            "1",
            "4",
            "--duration",
            "1",
            "--warmup",
            "0",
            "--inprocess-seconds",
            "0.3",
            "--json",
            str(out),
            "--markdown",
            str(tmp_path / "load.md"),
        ]
    )
    result = json.loads(out.read_text())
    assert code == 0 and result["setup"]["server_exit"] == 0
    for level in result["levels"]:
        assert level["sent"] == level["answered"] + level["rejected"] + level["errors"] + level["lost"]
        assert level["answered"] > 0 and level["lost"] == level["errors"] == 0
        assert level["server_answered"] == level["answered"]
        assert level["in_process"] > 0 and level["rss_peak_mb"] >= level["rss_start_mb"] > 0
    assert "| 4 |" in (tmp_path / "load.md").read_text()
