"""scripts/ct2_int8_sites.py on the stress checkpoint: Q/K/V's input is the site CT2's int8 breaks at."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "ct2_int8_sites.py"


def test_qkv_input_is_the_site_that_breaks_ct2_int8(stress_checkpoint):
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(stress_checkpoint), "--texts", "200"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    rows = dict(re.findall(r"^\| (\w[\w ]*) \| ([0-9.]+) \| \d+ \|$", done.stdout, re.M))
    assert set(rows) == {"qkv", "attention_output", "ffn_up", "ffn_down", "all four"}
    single = {site: float(v) for site, v in rows.items() if site != "all four"}
    assert max(single, key=single.get) == "qkv"
    assert single["qkv"] > 2 * max(v for s, v in single.items() if s != "qkv")


def test_a_missing_checkpoint_is_one_line():
    done = subprocess.run([sys.executable, str(SCRIPT), "/nonexistent/dir"], capture_output=True, text=True)
    assert done.returncode == 1 and done.stderr.strip().startswith("ct2_int8_sites: error:")
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_directory_that_is_not_a_classifier_is_one_line(tmp_path):
    (tmp_path / "config.json").write_text("{}", encoding="utf-8")
    done = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 1 and "not an XLM-R sequence classifier" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
