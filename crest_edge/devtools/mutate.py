"""A mutation fuzzer for artifacts: damage a copy of an artifact one way at a time and check that it
either fails to load with a clear error or gives exactly the original's verdicts.

Each mutation runs in a worker process (python -m crest_edge.devtools.mutate --worker), so a crash
(a signal) or a hang (past the timeout) is seen as such; the worker is restarted after one. Outcomes:
  same     loaded and gave the original's labels and scores (within 1e-6)
  refused  failed with a CrestEdgeError: one clear line
  changed  loaded but scored differently (a silent wrong result: the thing this exists to rule out)
  internal failed with any other exception (would be a traceback or "internal error")
  crash, hang
With `reseal`, the integrity record is recomputed after each mutation, so the parsers, validators and
engines behind it meet the damage: there "changed" is expected (the file is a different but
consistent model), crashes, hangs and internal errors are not.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

KINDS = ("flip", "ones", "zeros", "truncate", "insert")


@dataclasses.dataclass(frozen=True)
class Mutation:
    file: str  # relative to the artifact directory ("" for a single-file artifact)
    kind: str
    offset: int
    seed: int

    def apply(self, target: Path) -> None:
        path = target / self.file if self.file else target
        data = bytearray(path.read_bytes())
        rng = random.Random(self.seed)
        at = min(self.offset, max(len(data) - 1, 0))
        if self.kind == "flip" and data:
            data[at] ^= rng.randrange(1, 256)
        elif self.kind == "ones":
            data[at : at + 8] = b"\xff" * len(data[at : at + 8])
        elif self.kind == "zeros":
            data[at : at + 4] = b"\0" * len(data[at : at + 4])
        elif self.kind == "truncate":
            del data[at:]
        elif self.kind == "insert":
            data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 9)))
        path.write_bytes(bytes(data))


def plan(artifact: Path, count: int, seed: int = 0) -> list[Mutation]:
    """`count` seeded mutations of `artifact`: files chosen uniformly (so the small ones, manifest and
    head and tokenizer, are hit as often as the weights), half the offsets in the first 4 KB (headers)."""
    rng = random.Random(seed)
    artifact = Path(artifact)
    files = [""] if artifact.is_file() else sorted(p.name for p in artifact.iterdir() if p.is_file())
    out = []
    for _ in range(count):
        name = rng.choice(files)
        size = (artifact / name if name else artifact).stat().st_size
        offset = rng.randrange(min(size, 4096)) if rng.random() < 0.5 else rng.randrange(max(size, 1))
        out.append(Mutation(name, rng.choice(KINDS), offset, rng.randrange(1 << 30)))
    return out


def reseal(target: Path) -> None:
    """Recompute the integrity record of a (damaged) artifact copy, where its manifest still parses."""
    from ..errors import CrestEdgeError
    from ..formats.gguf_file import seal_gguf
    from ..formats.manifest import Manifest

    try:
        if target.is_file():
            seal_gguf(target)
        else:
            manifest = Manifest.read(target)
            manifest.record_files(target, sorted(manifest.files))
            manifest.write(target)
    except (CrestEdgeError, OSError):
        pass  # the damage is in what the record is read from: loading will refuse it


def fuzz(artifact, texts: list[str], count: int, seed: int = 0, resealed: bool = False, timeout: float = 120):
    """Run `count` mutations of `artifact`; returns (Counter of outcomes, [(mutation, outcome, detail)])."""
    artifact = Path(artifact)
    worker = _Worker(texts)
    outcome, expected = worker.run(artifact, timeout * 5)
    if outcome != "ok":
        worker.close()
        raise RuntimeError(f"the original artifact {artifact} does not run: {outcome} {expected}")
    results = []
    work = Path(tempfile.mkdtemp(prefix="crest-edge-mutate-"))
    try:
        for mutation in plan(artifact, count, seed):
            target = work / artifact.name
            shutil.rmtree(target, ignore_errors=True) if target.is_dir() else target.unlink(missing_ok=True)
            shutil.copytree(artifact, target) if artifact.is_dir() else shutil.copyfile(artifact, target)
            mutation.apply(target)
            if resealed:
                reseal(target)
            worker = worker or _Worker(texts)
            outcome, detail = worker.run(target, timeout)
            if outcome in ("crash", "hang"):
                worker = None
            elif outcome == "ok":
                same = detail["labels"] == expected["labels"] and all(
                    abs(a - b) <= 1e-6 for a, b in zip(detail["scores"], expected["scores"])
                )
                outcome, detail = ("same", "") if same else ("changed", json.dumps(detail)[:200])
            results.append((mutation, outcome, detail))
    finally:
        if worker:
            worker.close()
        shutil.rmtree(work, ignore_errors=True)
    return Counter(outcome for _, outcome, _ in results), results


class _Worker:
    def __init__(self, texts: list[str]):
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "crest_edge.devtools.mutate", "--worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        self.proc.stdin.write(json.dumps(texts) + "\n")
        self.proc.stdin.flush()

    def run(self, path: Path, timeout: float) -> tuple[str, object]:
        import selectors

        self.proc.stdin.write(str(path) + "\n")
        self.proc.stdin.flush()
        selector = selectors.DefaultSelector()
        selector.register(self.proc.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            self.proc.kill()
            self.proc.wait()
            return "hang", f"no answer in {timeout:g} s"
        line = self.proc.stdout.readline()
        if not line:
            code = self.proc.wait()
            return "crash", f"worker exited with {code}"
        answer = json.loads(line)
        return answer["outcome"], answer.get("detail")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)


def _serve() -> None:
    """The worker: reads the texts, then one artifact path per line; answers one JSON line each."""
    from .. import Guard
    from ..errors import CrestEdgeError

    texts = json.loads(sys.stdin.readline())
    for line in sys.stdin:
        try:
            with Guard.load(line.strip(), device="cpu", threads=1) as guard:
                verdicts = guard.classify_batch(texts)
            answer = {
                "outcome": "ok",
                "detail": {"labels": [v.label for v in verdicts], "scores": [v.score for v in verdicts]},
            }
        except CrestEdgeError as exc:
            answer = {"outcome": "refused", "detail": str(exc)[:300]}
        except Exception as exc:  # exactly what the fuzzer hunts: anything that is not a clear error
            answer = {"outcome": "internal", "detail": f"{type(exc).__name__}: {exc}"[:300]}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__" and sys.argv[1:] == ["--worker"]:
    _serve()
