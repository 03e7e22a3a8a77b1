"""bench/openvino_profile.py: OpenVINO's per-node profile of IRs side by side, and its one-line refusals."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "bench" / "openvino_profile.py"


def _run(*argv):
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, argv)], capture_output=True, text=True, cwd=ROOT)


@pytest.mark.slow
def test_two_irs_are_profiled_per_shape(build_artifact):
    pytest.importorskip("openvino")
    fp32, int8 = build_artifact("openvino", "fp32"), build_artifact("openvino", "int8")
    done = _run(fp32, int8, "--shapes", "1x8,2x16", "--repeat", "2")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.count("## ") == 2 and "## 2 x 16 (median of 2" in out
    int8_line = next(line for line in out.splitlines() if line.startswith(f"{int8}: call"))
    linear = float(int8_line.split("int8 Linear layers ")[1])
    assert linear > 0  # the int8 IR's Linear layers run on int8 kernels ...
    fp32_line = next(line for line in out.splitlines() if line.startswith(f"{fp32}: call"))
    assert fp32_line.endswith("int8 Linear layers 0.00")  # ... the fp32 IR's do not
    assert out.count("1.2x the fastest other") == 4


def test_bad_arguments_end_in_one_line(tmp_path):
    missing = _run(tmp_path)
    assert missing.returncode != 0
    assert missing.stderr.strip() == f"bench/openvino_profile.py: {tmp_path}: no model.xml there"
    shapes = _run(tmp_path, "--shapes", "16")
    assert shapes.returncode != 0 and "--shapes '16' --repeat 10 --threads 2: want 1x16, >= 1" in shapes.stderr
    assert len(shapes.stderr.strip().splitlines()) == 1
    assert _run(tmp_path, "--repeat", "0").returncode != 0


def test_an_unreadable_ir_is_one_clear_line(tmp_path):
    pytest.importorskip("openvino")
    (tmp_path / "model.xml").write_text("<not an IR")
    done = _run(tmp_path, "--shapes", "1x8", "--repeat", "1")
    assert done.returncode != 0 and "Traceback" not in done.stderr
    # OpenVINO's frontends log their own parse errors first; the script's verdict is the last line
    assert done.stderr.strip().splitlines()[-1].startswith(f"bench/openvino_profile.py: {tmp_path}: OpenVINO could not")
