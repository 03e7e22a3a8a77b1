"""Helpers for the serve tests: the real uvicorn server on a free loopback port (in a thread, or the
CLI in a process), its /metrics read with prometheus_client's own parser, and engines with injected
faults that follow runtimes/base.py's Engine protocol around a real engine (the server and the
Guard above them are the real ones)."""

from __future__ import annotations

import contextlib
import re
import signal
import subprocess
import threading
import time

import httpx


@contextlib.contextmanager
def running(app):
    """uvicorn serving `app` on 127.0.0.1 (a free port) in a thread; yields the base URL."""
    import uvicorn

    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    wait_until(lambda: server.started or not thread.is_alive(), "the test server started")
    if not server.started:
        raise RuntimeError("the test server did not start")
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


@contextlib.contextmanager
def serving(guard, **settings):
    from crest_edge.serve import Settings, create_app

    with running(create_app(guard, Settings(**settings))) as url:
        yield url


def wait_until(condition, what: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"never happened in {timeout} s: {what}")
        time.sleep(0.02)
    return value


def scrape(url: str) -> dict:
    """/metrics as {(name, ((label, value), ...)): value}."""
    from prometheus_client.parser import text_string_to_metric_families

    text = httpx.get(url + "/metrics").text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def metric(url: str, name: str, **labels) -> float:
    return scrape(url)[name, tuple(sorted(labels.items()))]


class ServerProcess:
    """`crest-edge serve --port 0 ...` in its own process; its output is collected line by line."""

    def __init__(self, cli: list[str], *args: str, env: dict | None = None):
        self.process = subprocess.Popen(
            [*cli, "serve", "--port", "0", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        self.lines: list[str] = []
        self.url: str | None = None
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            found = re.search(r"listening on (http://\S+)", line)
            if found:
                self.url = found.group(1)

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_ready(self, timeout: float = 120) -> str:
        wait_until(self._ready, f"the server ready:\n{self.output}", timeout)
        return self.url

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"the server exited with {self.process.returncode}:\n{self.output}")
        try:
            return bool(self.url) and httpx.get(self.url + "/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self, sig=signal.SIGTERM, timeout: float = 60) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self._reader.join(5)
        return code

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class WrappedEngine:
    """A real engine behind the Engine protocol (info, logits, close). close() leaves the real one
    open: it belongs to a session fixture."""

    def __init__(self, inner):
        self.inner = inner
        self.info = inner.info

    def logits(self, sequences):
        return self.inner.logits(sequences)

    def close(self):
        pass


class FailingEngine(WrappedEngine):
    """Raises on every call whose sequences match `when` (default: every call)."""

    def __init__(self, inner, when=lambda sequences: True):
        super().__init__(inner)
        self.when = when

    def logits(self, sequences):
        if self.when(sequences):
            raise RuntimeError("injected engine failure")
        return super().logits(sequences)


class RecordingEngine(WrappedEngine):
    """Records the length of every sequence of every call."""

    def __init__(self, inner):
        super().__init__(inner)
        self.calls: list[list[int]] = []

    def logits(self, sequences):
        self.calls.append([len(s) for s in sequences])
        return super().logits(sequences)


class GatedEngine(WrappedEngine):
    """Each call waits until `gate` is set: the engine looks busy for as long as a test wants."""

    def __init__(self, inner):
        super().__init__(inner)
        self.gate = threading.Event()
        self.entered = threading.Event()

    def logits(self, sequences):
        self.entered.set()
        if not self.gate.wait(60):
            raise TimeoutError("the test never opened the gate")
        return super().logits(sequences)


def guard_on(engine, like):
    """A Guard like `like` (tokenizer, artifact, threshold, ...) running on `engine`."""
    from crest_edge import Guard

    return Guard(engine, like.tokenizer, like.artifact, like.threshold, like.long_text, like.batch_size)
