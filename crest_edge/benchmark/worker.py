"""One benchmark configuration in its own process: `python -m crest_edge.benchmark.worker SPEC_JSON`.

Loads the artifact (or peer) once, then for each (batch, length) workload, smallest first: builds
`batch` distinct texts that tokenize to exactly `length` ids (<s> and </s> included), warms up,
and times Guard.classify_batch(texts) and the raw engine call guard.engine.logits(ids), interleaved.
stdout carries JSON lines only: {"event": "progress"|"result"|"error", ...}; anything the engines
print goes to stderr.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time

import numpy as np

from crest_edge.registry import DEVICE_ALIASES
from crest_edge.tokenizer import BOS_ID, EOS_ID

FALLBACK_TEXTS = [
    "How do I reset my router password?",
    "Comment puis-je réinitialiser mon mot de passe ?",
    "Wie kann ich mein Passwort zurücksetzen?",
    "¿Cómo restablezco mi contraseña?",
    "パスワードをリセットするにはどうすればいいですか？",
    "Как сбросить пароль от роутера?",
    "如何重置我的路由器密码？",
    "Parola sıfırlama nasıl yapılır?",
    "मैं अपना पासवर्ड कैसे रीसेट करूं?",
]


def corpus_texts() -> list[str]:
    from crest_edge.data import parity_corpus_path, read_jsonl, seed_corpus_path

    for path in (parity_corpus_path(), seed_corpus_path()):
        if path.is_file():
            texts = [row["text"] for row in read_jsonl(path) if row["text"].strip()]
            if texts:
                return texts
    return FALLBACK_TEXTS


def exact_texts(tokenizer, corpus: list[str], batch: int, length: int) -> list[str]:
    """`batch` different real texts, each tokenizing to exactly `length - 2` pieces (+ <s> </s>)."""
    need = length - 2
    out = []
    for i in range(batch):
        for attempt in range(len(corpus)):
            text = _cut(tokenizer, corpus, (i * 7919 + attempt * 31 + length) % len(corpus), need)
            if text is not None:
                out.append(text)
                break
        else:
            raise RuntimeError(f"no text of exactly {length} tokens could be cut from the corpus")
    return out


def _cut(tokenizer, corpus: list[str], start: int, need: int) -> str | None:
    count = lambda s: len(tokenizer.encode(s))  # noqa: E731
    parts, j, total = [], start, 0
    while True:
        while total < need:  # per-part counts: cheap, and close to the joined text's count
            parts.append(corpus[j % len(corpus)])
            total += count(parts[-1])
            j += 1
            if j - start > 10 * len(corpus) + need:
                return None
        text = " ".join(parts)
        total = count(text)
        if total >= need:
            break
    lo, hi = 0, len(text)  # smallest prefix with at least `need` pieces
    while lo < hi:
        mid = (lo + hi) // 2
        lo, hi = (mid + 1, hi) if count(text[:mid]) < need else (lo, mid)
    for k in range(lo, min(len(text), lo + 8) + 1):
        if count(text[:k].rstrip()) == need:
            return text[:k].rstrip()
    return None


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MB (10^6 bytes).

    Linux: VmHWM of this process's own memory map. Not ru_maxrss, which a child inherits from the
    parent it was forked from (the kernel keeps the pre-exec high-water mark).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024 / 1e6
    except (OSError, ValueError):
        pass
    try:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 1e6 if sys.platform == "darwin" else peak * 1024 / 1e6  # bytes on macOS, KiB on Linux
    except ImportError:  # Windows
        import psutil

        return psutil.Process().memory_info().peak_wset / 1e6


def rss_mb() -> float:
    try:
        import psutil

        return psutil.Process().memory_info().rss / 1e6
    except ImportError:
        return float("nan")


def stats_ms(seconds: list[float]) -> dict:
    ms = np.asarray(seconds) * 1e3
    return {
        "median": float(np.median(ms)),
        "p95": float(np.percentile(ms, 95)),
        "mean": float(ms.mean()),
        "min": float(ms.min()),
        "max": float(ms.max()),
    }


def measure(guard_call, engine_call, repeat: int, warmup: int, budget_s: float) -> dict:
    """Interleaved timings; stops early once `budget_s` is spent (after at least 3 repeats)."""
    for _ in range(warmup):
        engine_call()
        guard_call()
    timed = {"guard": [], "engine": []}
    started = time.perf_counter()
    gc.collect()
    gc.disable()
    try:
        for i in range(repeat):
            order = (("engine", engine_call), ("guard", guard_call))
            for key, call in order if i % 2 == 0 else order[::-1]:
                t0 = time.perf_counter()
                call()
                timed[key].append(time.perf_counter() - t0)
            if budget_s and i + 1 >= 3 and time.perf_counter() - started > budget_s:
                break
    finally:
        gc.enable()
    return {
        "repeats": len(timed["guard"]),
        "guard_ms": stats_ms(timed["guard"]),
        "engine_ms": stats_ms(timed["engine"]),
    }


def open_config(spec: dict):
    """(classify(texts), engine_logits(ids), tokenizer, info dict, close) for the spec's artifact or peer."""
    if spec["kind"] == "peer":
        from crest_edge.benchmark import peers
        from crest_edge.tokenizer import load_tokenizer

        tokenizer = load_tokenizer(spec["tokenizer"])
        if spec["name"] == "onnx-plain":
            runner = peers.PlainOnnxRunner(spec["path"], spec.get("threads"))
        else:
            precision = "int8 (NNCF)" if spec["name"] == "openvino-nncf" else "fp32 as read"
            runner = peers.OpenVinoPeerRunner(spec["path"], spec.get("threads"), precision)
        ids_of = lambda texts: [[BOS_ID, *tokenizer.encode(t), EOS_ID] for t in texts]  # noqa: E731
        info = getattr(runner, "info", None)
        described = {
            "engine": getattr(info, "engine", "onnxruntime (plain)"),
            "device": getattr(info, "device", "cpu"),
            "precision": getattr(info, "precision", "int8"),
            "detail": getattr(info, "detail", ""),
        }
        return (
            (lambda texts: runner.logits(ids_of(texts))),
            runner.logits,
            tokenizer,
            described,
            getattr(runner, "close", lambda: None),
        )
    from crest_edge.guard import Guard

    guard = Guard.load(
        spec["path"],
        engine=spec["engine"],
        device=spec["device"],
        threads=spec.get("threads"),
        batch_size=max(b for b, _ in spec["workloads"]),
    )
    info = guard.engine.info
    described = {"engine": info.engine, "device": info.device, "precision": info.precision, "detail": info.detail}
    return guard.classify_batch, guard.engine.logits, guard.tokenizer, described, guard.close


def run(spec: dict, emit) -> dict:
    from crest_edge.runtimes import adapter

    result = {"name": spec["name"], "rss_start_mb": rss_mb()}
    t0 = time.perf_counter()
    if spec["kind"] != "peer":
        adapter(spec["engine"]).devices()  # imports the engine library: part of an honest cold load
    result["import_s"] = time.perf_counter() - t0
    classify, engine_logits, tokenizer, info, close = open_config(spec)
    result["load_s"] = time.perf_counter() - t0
    result.update(info, rss_loaded_mb=rss_mb(), peak_rss_loaded_mb=peak_rss_mb())
    wanted = DEVICE_ALIASES.get(spec["backend"], (spec["backend"],))
    if spec["backend"] != "auto" and info["device"] not in wanted:
        raise RuntimeError(f"asked for {spec['backend']}, but the engine reports it runs on {info['device']}")
    corpus, rows = corpus_texts(), []
    for batch, length in sorted(spec["workloads"], key=lambda w: (w[0] * w[1], w[0])):
        texts = exact_texts(tokenizer, corpus, batch, length)
        ids = [[BOS_ID, *tokenizer.encode(t), EOS_ID] for t in texts]
        if any(len(s) != length for s in ids):
            raise RuntimeError(f"input builder produced lengths {sorted({len(s) for s in ids})}, wanted {length}")
        row = {"batch": batch, "length": length}
        row.update(
            measure(
                lambda t=texts: classify(t),
                lambda i=ids: engine_logits(i),  # bound now
                spec["repeat"],
                spec["warmup"],
                spec["budget_s"],
            )
        )
        row["peak_rss_mb"] = peak_rss_mb()
        rows.append(row)
        emit({"event": "progress", "batch": batch, "length": length})
    close()
    result.update(workloads=rows, peak_rss_mb=peak_rss_mb())
    return result


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # Keep stdout for our JSON lines: whatever the engines print (C code included) goes to stderr.
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def emit(event: dict) -> None:
        out.write(json.dumps(event) + "\n")
        out.flush()

    try:
        spec = json.loads(argv[0])
        emit({"event": "result", **run(spec, emit)})
        return 0
    except Exception as exc:  # reported to the parent as one line; the config is marked failed
        message = " ".join(str(exc).split()) or type(exc).__name__
        emit({"event": "error", "error": f"{type(exc).__name__}: {message}"})
        if os.environ.get("CREST_EDGE_DEBUG"):
            raise
        return 1


if __name__ == "__main__":
    sys.exit(main())
