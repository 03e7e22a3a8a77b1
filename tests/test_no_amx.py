"""bench/no_amx.py: engines run as on a CPU without AMX, and the bench report says so."""

import platform
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from crest_edge.cpu import amx_state, cpu_flags

ROOT = Path(__file__).resolve().parents[1]
NO_AMX = ROOT / "bench" / "no_amx.py"
HAS_AMX = "amx_tile" in cpu_flags() and platform.system() == "Linux" and platform.machine() == "x86_64"


def _run(*argv, prefix=()):
    return subprocess.run([*prefix, *argv], capture_output=True, text=True, timeout=300, cwd=ROOT)


def test_amx_state_follows_the_cpu_flags():
    state = _run(sys.executable, "-c", "from crest_edge.cpu import amx_state; print(amx_state())").stdout.strip()
    assert state == ("usable" if HAS_AMX else "None")
    assert amx_state() in (("usable",) if HAS_AMX else (None,))


@pytest.mark.skipif(not HAS_AMX, reason="this CPU has no AMX to deny")
@pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler to build bench/no_amx.c")
def test_under_the_shim_amx_is_denied_and_engines_still_classify():
    wrap = (sys.executable, str(NO_AMX))
    probe = "from crest_edge.benchmark.report import machine; print(machine()['amx'])"
    assert _run(sys.executable, "-c", probe, prefix=wrap).stdout.strip() == "denied"
    done = _run(sys.executable, "-m", "crest_edge.cli", "classify", "--json", "a harmless sentence", prefix=wrap)
    assert done.returncode == 0, done.stderr[-2000:]
    assert '"label"' in done.stdout


@pytest.mark.skipif(HAS_AMX, reason="this CPU has AMX: the shim has something to deny")
def test_without_amx_the_wrapper_refuses_in_one_line():
    done = _run(sys.executable, str(NO_AMX), sys.executable, "-c", "pass")
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1


def test_the_wrapper_needs_a_command():
    done = _run(sys.executable, str(NO_AMX))
    assert done.returncode == 2 and "no_amx.py" in done.stdout
