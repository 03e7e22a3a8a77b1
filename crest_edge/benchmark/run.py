"""`run_bench`: the benchmark as a library call. Plans what can run on the backend (failing up front),
converts and caches the artifacts, runs one worker process per configuration and returns the report."""

from __future__ import annotations

import datetime as _dt
import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from crest_edge.errors import CrestEdgeError
from crest_edge.registry import ENGINE_FOR_FORMAT

from . import artifacts as A
from .report import against_peers, derive, fastest, machine, versions

DEFAULT_BATCH = (1, 8, 32)
DEFAULT_LENGTHS = (16, 128, 512)


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def run_worker(spec: dict, timeout: float | None, on_progress) -> dict:
    """Run one configuration in a fresh process; return its result, or {"error": one line}."""
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as errors:
        proc = subprocess.Popen(
            [sys.executable, "-m", "crest_edge.benchmark.worker", json.dumps(spec)],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            encoding="utf-8",
        )
        timer = threading.Timer(timeout, proc.kill) if timeout else None
        timer and timer.start()
        result = None
        try:
            for line in proc.stdout:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if event.get("event") == "progress":
                    on_progress()
                elif event.get("event") in ("result", "error"):
                    result = event
            proc.wait()
        finally:
            timer and timer.cancel()
        if result is None:
            errors.seek(0)
            tail = [ln for ln in errors.read().splitlines() if ln.strip()]
            why = f"killed after {timeout:g} s" if timer and proc.returncode < 0 else (tail[-1] if tail else "")
            result = {"error": f"worker exited with {proc.returncode}: {why}"}
        result.pop("event", None)
        return result


def _spec(base: dict, name: str, quant: str | None, source, cache: Path) -> dict:
    """What a worker needs to run one configuration; converts (or finds cached) its artifact."""
    if name == "torch":
        return dict(base, name="torch", kind="guard", engine="torch", path=str(source.path))
    if name in A.CPU_PEERS:
        path = A.ensure_peer(name, source, cache)
        return dict(
            base,
            name=name,
            kind="peer",
            path=str(path),
            tokenizer=str(source.path),
            size_dir=str(path if path.is_dir() else path.parent),
        )
    path = A.ensure_artifact(source, name, quant, cache)
    return dict(base, name=f"{name}:{quant}", kind="guard", engine=ENGINE_FOR_FORMAT[name], path=str(path))


def _load_average() -> float | None:
    """The 1-minute load average (other work competing for the cores), where the OS has one."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def run_bench(
    model=None,
    *,
    shape: str | None = None,
    seed: int = 0,
    backend: str = "auto",
    formats=None,
    peers=None,
    batch=DEFAULT_BATCH,
    lengths=DEFAULT_LENGTHS,
    repeat: int = 10,
    warmup: int = 2,
    budget: float = 30.0,
    threads: int | None = None,
    timeout: float | None = None,
    cache=None,
    say=_say,
    progress: bool = True,
) -> dict:
    """Benchmark every format of `model` (a checkpoint directory) or of a synthesized `shape` checkpoint
    (default base) on `backend`, side by side with the peers; the report as a JSON-ready dict.

    `formats`: [(format, quant), ...] or a "ct2:int8,gguf:q8_0" string; `peers`: a list or a
    "torch,onnx-plain" string. None means the backend's defaults (what cannot run is dropped with a
    word through `say`); explicit lists fail on any problem.
    """
    from tqdm import tqdm

    load_before = _load_average()
    if isinstance(formats, str):
        formats = A.parse_formats(formats)
    if isinstance(peers, str):
        peers = A.parse_peers(peers)
    formats, peers = A.plan(backend, formats, peers, say)
    cache = Path(cache or A.default_cache()).expanduser()
    source = A.resolve_source(model, shape or (None if model else "base"), seed, cache, say)
    batch, lengths = sorted(set(batch)), sorted(set(lengths))
    too_long = [n for n in lengths if not 2 <= n <= source.model["max_length"]]
    if too_long:
        raise CrestEdgeError(f"--lengths {too_long}: each must be between 2 and {source.model['max_length']}")
    workloads = [[b, n] for n in lengths for b in batch]
    device = "auto" if backend == "auto" else backend
    base = {
        "backend": backend,
        "device": device,
        "threads": threads,
        "workloads": workloads,
        "repeat": repeat,
        "warmup": warmup,
        "budget_s": budget,
    }
    specs, configs = [], []
    todo = [(p, None) for p in peers] + formats
    quiet = None if progress else True
    for name, quant in tqdm(todo, desc="artifacts", unit="artifact", file=sys.stderr, disable=quiet):
        try:
            specs.append(_spec(base, name, quant, source, cache))
        except Exception as exc:  # a failed conversion fails that configuration, not the run
            error = f"conversion failed: {type(exc).__name__}: {' '.join(str(exc).split())}"
            say(f"crest-edge bench: {name}{':' + quant if quant else ''} {error}")
            configs.append({"name": f"{name}:{quant}" if quant else name, "error": error, "size_mb": None})
    with tqdm(
        total=len(specs) * len(workloads), desc="benchmark", unit="workload", file=sys.stderr, disable=quiet
    ) as bar:
        for spec in specs:
            bar.set_postfix_str(spec["name"])
            done = bar.n
            result = run_worker(spec, timeout, lambda: bar.update(1))
            bar.update(done + len(workloads) - bar.n)
            result.update(name=spec["name"], path=spec["path"], size_mb=A.size_mb(spec.get("size_dir") or spec["path"]))
            if result.get("error"):
                say(f"crest-edge bench: {spec['name']} failed: {result['error']}")
            configs.append(result)
    derive(configs)
    meta = {
        "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "source": source.label,
        "source_path": str(source.path),
        "sha256": source.sha256,
        "model": source.model,
        "backend": backend,
        "threads": threads,
        "workloads": workloads,
        "repeat": repeat,
        "warmup": warmup,
        "budget_s": budget,
        "cache": str(cache),
        "load_average": [load_before, _load_average()],
    }
    return {
        "meta": meta,
        "machine": machine(),
        "versions": versions(),
        "configs": configs,
        "fastest": fastest(configs, workloads),
        "against_peers": against_peers(configs, workloads),
    }


def failed(report: dict) -> bool:
    return any(c.get("error") for c in report["configs"])
