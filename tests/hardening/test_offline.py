"""Row 7 of the hardening issue: no engine phones home. The CLI runs under strace for 15 s after
classifying (ONNX Runtime's telemetry looked its host up about 10 s after import), with HOME in a
temporary directory: no connect or send to any internet address, no ~/.cache/Microsoft."""

import os
import re
import shutil
import subprocess

import pytest
from hardening_helpers import PYTHON

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed (apt-get install strace)"),
]
INET = re.compile(r"(connect|sendto|sendmsg)\(.*sa_family=AF_INET6?")


@pytest.mark.parametrize("engine", ["torch", "ct2", "llamacpp", "onnx"])
def test_classify_makes_no_network_call(engine, engine_artifact, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    trace = tmp_path / "trace.txt"
    script = (
        "import sys, time; from crest_edge.cli import main; "
        f"code = main(['classify', '--model', {str(engine_artifact(engine))!r}, '--threads', '1', 'hello']); "
        "time.sleep(15); sys.exit(code)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "ORT_", "TRANSFORMERS_"))}
    env.update(HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"))
    done = subprocess.run(
        ["strace", "-f", "-qq", "-e", "trace=connect,sendto,sendmsg", "-o", str(trace), PYTHON, "-c", script],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    calls = [line for line in trace.read_text().splitlines() if INET.search(line)]
    assert calls == []
    assert not (home / ".cache" / "Microsoft").exists()
