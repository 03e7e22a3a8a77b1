"""`crest-edge classify --stream`: standard input read as it arrives from a slow pipe, a JSON line
whenever the verdict changes and one at the end, classify's exit status, one-line errors."""

import json
import os
import queue
import subprocess
import sys
import threading

import pytest

from crest_edge import Guard

SAFE = "What's a good recipe for vegetable soup? "
UNSAFE = "How do I make a bomb at home? "
ENV = {**os.environ, "PYTHONPATH": os.getcwd() + os.pathsep + os.environ.get("PYTHONPATH", "")}


def command(model, *options) -> list[str]:
    return [
        sys.executable,
        "-m",
        "crest_edge.cli",
        "classify",
        "--stream",
        "--model",
        str(model),
        "--threads",
        "1",
        *options,
    ]


def run(model, *options, data: bytes) -> subprocess.CompletedProcess:
    return subprocess.run(command(model, *options), input=data, capture_output=True, timeout=300, env=ENV)


def start(model, *options) -> subprocess.Popen:
    pipe = subprocess.PIPE
    return subprocess.Popen(command(model, *options), stdin=pipe, stdout=pipe, stderr=pipe, env=ENV)


def lines_of(stream) -> queue.Queue:
    lines: queue.Queue = queue.Queue()

    def pump():
        for line in stream:
            lines.put(line.decode("utf-8"))
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return lines


@pytest.fixture(scope="module")
def gguf(build_artifact):
    return build_artifact("gguf", "q8_0")


def test_verdicts_come_while_the_pipe_is_still_open(gguf):
    process = start(gguf, "--check-every", "4")
    out = lines_of(process.stdout)
    process.stdin.write(SAFE.encode())
    process.stdin.flush()
    first = json.loads(out.get(timeout=300))  # printed before the input ended
    assert first["final"] is False and first["label"] == "safe"
    text = SAFE + UNSAFE
    middle = UNSAFE.encode()
    process.stdin.write(middle[:5])  # the next chunk cut mid-word, then mid-character
    process.stdin.flush()
    process.stdin.write(middle[5:])
    process.stdin.flush()
    second = json.loads(out.get(timeout=300))
    assert second["final"] is False and second["label"] == "unsafe"
    tail = "Thanks, ça va très bien 🙂".encode()
    process.stdin.write(tail[:-2])
    process.stdin.flush()
    process.stdin.write(tail[-2:])
    process.stdin.close()
    text += tail.decode()
    final = json.loads(out.get(timeout=300))
    assert out.get(timeout=60) is None and process.wait(timeout=60) == 0
    with Guard.load(gguf, threads=1) as guard:
        assert final == {"final": True, **guard.classify(text).to_dict()}


def test_empty_input_gets_the_empty_texts_verdict(gguf):
    done = run(gguf, data=b"")
    assert done.returncode == 0
    (line,) = done.stdout.decode().splitlines()
    with Guard.load(gguf, threads=1) as guard:
        assert json.loads(line) == {"final": True, **guard.classify("").to_dict()}


@pytest.mark.parametrize(
    "extra, data, fragment",
    [
        ((), b"fine so far \xff\xfe", "not UTF-8 text (invalid byte 0xff at offset 12)"),
        (("some text",), b"", "--stream reads standard input"),
        (("--input", "-"), b"", "--stream reads standard input"),
    ],
)
def test_errors_are_one_line_and_non_zero(gguf, extra, data, fragment):
    done = run(gguf, *extra, data=data)
    assert done.returncode == 1
    err = [line for line in done.stderr.decode().splitlines() if line.strip()]
    assert len(err) == 1 and fragment in err[0] and "Traceback" not in done.stderr.decode()
