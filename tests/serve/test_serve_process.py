"""`crest-edge serve` as a process: SIGTERM drains, logs keep texts out, bad options and binds fail in one line."""

import os
import socket
import subprocess
import sys
import threading

import httpx
import pytest
from serving import ServerProcess, metric, wait_until

# Each test starts crest-edge as a Python process: 2-6 s each on this 2-core machine, 48 s for the
# torch demo, so the whole file runs in the full suite only.
pytestmark = pytest.mark.slow

MARKER = "zebra-marker-4711 please keep this private"


def test_sigterm_answers_every_request_in_flight_then_exits_0(cli, served_artifact):
    # --max-wait-ms 6000: the requests sit in the batcher long enough to be in flight at SIGTERM. With
    # 1500 it failed once at load average 10 (not reproduced in 5 later runs), most likely because the
    # 16 client threads (an httpx client each) had not all sent before the first batch left.
    with ServerProcess(cli, "--model", str(served_artifact), "--threads", "1", "--max-wait-ms", "6000") as server:
        url = server.wait_ready()
        answers = []

        def post(i):
            answers.append(
                httpx.post(url + "/classify", json={"input": [f"text number {i}", "and another"]}, timeout=60)
            )

        clients = [threading.Thread(target=post, args=(i,)) for i in range(16)]
        for client in clients:
            client.start()
        wait_until(lambda: metric(url, "crest_edge_queue_depth") == 32, "all 32 texts in flight")
        code = server.stop()
        for client in clients:
            client.join(30)
    assert code == 0, server.output
    assert [a.status_code for a in answers] == [200] * 16
    assert all(len(a.json()["results"]) == 2 for a in answers)
    assert "stopped: every request was answered" in server.output


@pytest.mark.parametrize("log_texts", [False, True], ids=["default", "--log-texts"])
def test_request_logs_hold_texts_only_when_asked(cli, served_artifact, log_texts):
    args = ["--model", str(served_artifact), "--threads", "1"] + (["--log-texts"] if log_texts else [])
    with ServerProcess(cli, *args) as server:
        url = server.wait_ready()
        assert httpx.post(url + "/classify", json={"input": MARKER}).status_code == 200
        assert httpx.post(url + "/v1/moderations", json={"input": [MARKER]}).status_code == 200
        assert httpx.post(url + "/classify", json={"input": {"text": MARKER}}).status_code == 422
        assert server.stop() == 0
    assert '"POST /classify" 200' in server.output and "inputs=1" in server.output
    assert (MARKER in server.output) is log_texts
    assert "Traceback" not in server.output


def _run(cli, *args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([*cli, "serve", *args], capture_output=True, text=True, timeout=120, env=env)


def _error_lines(result) -> list[str]:
    assert "Traceback" not in result.stderr
    return [line for line in result.stderr.splitlines() if "error" in line.lower()]


def test_non_loopback_bind_without_a_key_is_refused(cli):
    result = _run(cli, "--host", "0.0.0.0")
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("crest-edge: error:")]
    assert _error_lines(result) == errors and len(errors) == 1
    assert "--api-key" in result.stderr and "--insecure" in result.stderr and "listening" not in result.stderr


@pytest.mark.parametrize("args", [["--on-error", "maybe"], ["--port", "70000"], ["--queue", "0"], ["--threshold", "2"]])
def test_bad_option_values_are_one_usage_line(cli, args):
    result = _run(cli, *args)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_missing_model_is_one_error_line(cli, tmp_path):
    result = _run(cli, "--port", "0", "--model", str(tmp_path / "no-such-model"))
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("crest-edge: error:")]
    assert len(errors) == 1 and "cannot load the model" in errors[0] and "no-such-model" in errors[0]
    assert "Traceback" not in result.stderr


def test_port_in_use_is_one_error_line(cli):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = _run(cli, "--port", str(taken.getsockname()[1]))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("crest-edge: error: cannot listen on 127.0.0.1:")


def test_demo_by_default_with_the_key_from_the_environment(cli):
    env = {**os.environ, "CREST_EDGE_API_KEY": "from-env"}
    with ServerProcess(cli, "--threads", "1", env=env) as server:
        url = server.wait_ready()
        assert httpx.get(url + "/info").status_code == 401
        info = httpx.get(url + "/info", headers={"Authorization": "Bearer from-env"}).json()
        assert server.stop() == 0
    assert info["model"] == "crest-edge-demo" and info["engine"] == "torch"
    assert "bundled demo model" in server.output


# starlette hidden: `import starlette` raises ImportError, as on a machine without the extra
WITHOUT_STARLETTE = "import sys; sys.modules['starlette'] = None; from crest_edge.cli import main; sys.exit(main())"


def test_without_the_extra_help_works_and_serve_names_the_pip_line():
    run = lambda *args: subprocess.run(
        [sys.executable, "-c", WITHOUT_STARLETTE, "serve", *args], capture_output=True, text=True, timeout=120
    )
    helped = run("--help")
    assert helped.returncode == 0 and "--max-batch-tokens" in helped.stdout
    failed = run()
    assert failed.returncode == 1
    assert failed.stderr.strip() == (
        "crest-edge: error: starlette is not installed for crest-edge serve: pip install 'crest-edge[serve]'"
    )
