"""Streaming moderation (`Guard.stream`): the work per streamed token and how soon a planted unsafe
sentence is flagged.

    python bench/stream_bench.py                       # the demo on transformers, ONNX int8, GGUF q8_0
    python bench/stream_bench.py --model DIR_OR_GGUF... --cases 40 --json out.json

Workload: `--cases` long safe texts (20-60 safe sentences of crest_edge/data/seed.jsonl, 300-1,700
tokens) with one unsafe sentence of seed.jsonl planted at a random sentence border, streamed in
chunks of 1-8 characters (about what an LLM emits per token), seeded. Each model runs in its own
process with one engine thread. Per model:

- engine calls per 1,000 streamed tokens (every window scored: periodic checks and close()'s
  windows), and the tokens those calls read per streamed token;
- ms per 1,000 streamed tokens: wall time of every feed() and close(), and of the tokenization
  alone (the same chunks through the incremental tokenizer); for scale, classify(whole text) once;
- flag latency: streamed tokens after the unsafe sentence's last token when the stream first flags
  (median, max; 0 when flagged before it ended), over the cases where it flagged; and how many
  texts the stream flagged against classify(whole text) (close() always equals classify).

The machine is stated with the numbers (CPU, cores, load average before and after each model).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def planted_cases(count: int, seed: int = 19):
    import random

    from crest_edge.data import read_jsonl, seed_corpus_path

    rows = list(read_jsonl(seed_corpus_path()))
    safe = [r["text"] for r in rows if r["label"] == "safe"]
    unsafe = [r["text"] for r in rows if r["label"] == "unsafe"]
    rng = random.Random(seed)
    cases = []
    for _ in range(count):
        sentences = rng.sample(safe, rng.randint(20, 60))
        at = rng.randint(0, len(sentences))
        before, bad, after = " ".join(sentences[:at]), rng.choice(unsafe), " ".join(sentences[at:])
        text = " ".join(p for p in (before, bad, after) if p)
        chunks, i = [], 0
        while i < len(text):
            n = rng.randint(1, 8)
            chunks.append(text[i : i + n])
            i += n
        cases.append({"before": before, "bad": bad, "text": text, "chunks": chunks})
    return cases


def measure(model: str, cases: int, every: int, overlap: int, at_sentence_end: bool) -> dict:
    from crest_edge import Guard
    from crest_edge.tokenizer.incremental import IncrementalEncoder

    load_before = os.getloadavg()
    guard = Guard.load(model, device="cpu", threads=1)
    guard.classify("warm up")
    tokens = calls = read = 0
    stream_s = tokenize_s = classify_s = 0.0
    latencies, stream_flags, classify_flags = [], 0, 0
    for case in planted_cases(cases):
        end = len(guard._pieces(case["before"])) + len(guard._pieces(case["bad"]))
        started = time.perf_counter()
        stream = guard.stream(every=every, overlap=overlap, at_sentence_end=at_sentence_end)
        first = None
        for chunk in case["chunks"]:
            verdict = stream.feed(chunk)
            if first is None and verdict is not None and verdict.label == "unsafe":
                first = max(0, verdict.tokens - 2 - end)
        final = stream.close()
        stream_s += time.perf_counter() - started
        started = time.perf_counter()
        encoder = IncrementalEncoder(guard.tokenizer)
        for chunk in case["chunks"]:
            encoder.feed(chunk)
        encoder.close()
        tokenize_s += time.perf_counter() - started
        started = time.perf_counter()
        whole = guard.classify(case["text"])
        classify_s += time.perf_counter() - started
        assert (final.label, final.tokens, final.windows) == (whole.label, whole.tokens, whole.windows)
        tokens += final.tokens - 2
        calls += len(stream.checks)
        read += sum(c.end - c.start + c.pending + 2 for c in stream.checks)
        if first is not None or final.label == "unsafe":
            stream_flags += 1
            latencies.append(first if first is not None else final.tokens - 2 - end)
        classify_flags += whole.label == "unsafe"
    info = guard.info
    guard.close()
    return {
        "model": str(model),
        "engine": info.engine,
        "precision": info.precision,
        "cases": cases,
        "at_sentence_end": at_sentence_end,
        "streamed_tokens": tokens,
        "calls_per_1k_tokens": 1000 * calls / tokens,
        "engine_tokens_per_token": read / tokens,
        "stream_ms_per_1k_tokens": 1000 * 1000 * stream_s / tokens,
        "tokenize_ms_per_1k_tokens": 1000 * 1000 * tokenize_s / tokens,
        "classify_whole_ms_per_1k_tokens": 1000 * 1000 * classify_s / tokens,
        "flag_latency_median": statistics.median(latencies) if latencies else None,
        "flag_latency_max": max(latencies) if latencies else None,
        "stream_flagged": stream_flags,
        "classify_flagged": classify_flags,
        "load_before": load_before,
        "load_after": os.getloadavg(),
    }


def default_models(work: Path) -> list[str]:
    from crest_edge.convert import convert
    from crest_edge.demo import demo_path

    models = [str(demo_path())]
    for to, quant, name in (("onnx", "int8", "demo-onnx-int8"), ("gguf", "q8_0", "demo.q8_0.gguf")):
        models.append(str(convert(demo_path(), work / name, to, quant)))
    return models


def markdown(results: list[dict], every: int, overlap: int) -> str:
    cpu = next((ln.split(":", 1)[1].strip() for ln in _cpuinfo() if ln.startswith("model name")), platform.processor())
    lines = [
        f"Machine: {cpu}, {os.cpu_count()} cores; one engine thread; every={every}, overlap={overlap}.",
        "",
        "| model | engine | checks at | calls / 1k tok | engine tok / tok | stream ms / 1k tok | tokenize ms / 1k tok "
        "| classify(whole) ms / 1k tok | flag latency median / max (tok) | flagged: stream / classify | load avg |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {Path(r['model']).name} | {r['engine']} {r['precision']} "
            f"| {'sentence ends + ' if r['at_sentence_end'] else ''}{every} tok | {r['calls_per_1k_tokens']:.1f} "
            f"| {r['engine_tokens_per_token']:.2f} | {r['stream_ms_per_1k_tokens']:.0f} "
            f"| {r['tokenize_ms_per_1k_tokens']:.0f} | {r['classify_whole_ms_per_1k_tokens']:.0f} "
            f"| {r['flag_latency_median']} / {r['flag_latency_max']} "
            f"| {r['stream_flagged']} / {r['classify_flagged']} of {r['cases']} "
            f"| {r['load_before'][0]:.1f} -> {r['load_after'][0]:.1f} |"
        )
    return "\n".join(lines)


def _cpuinfo() -> list[str]:
    try:
        return Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", nargs="+", help="checkpoints or artifacts (default: the demo in three formats)")
    parser.add_argument("--cases", type=int, default=20)
    parser.add_argument("--every", type=int, default=32)
    parser.add_argument("--overlap", type=int, default=64)
    parser.add_argument("--json", metavar="OUT")
    parser.add_argument("--markdown", metavar="OUT")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--no-sentence-end", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(measure(args.worker, args.cases, args.every, args.overlap, not args.no_sentence_end)))
        return 0
    with tempfile.TemporaryDirectory() as work:
        models = args.model or default_models(Path(work))
        results = []
        for model in models:  # each in its own process: no engine shares memory or threads with another
            for sentence_ends in (True, False):
                command = [sys.executable, __file__, "--worker", model, "--cases", str(args.cases)]
                command += ["--every", str(args.every), "--overlap", str(args.overlap)]
                command += [] if sentence_ends else ["--no-sentence-end"]
                done = subprocess.run(command, capture_output=True, text=True, check=True)
                results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    report = markdown(results, args.every, args.overlap)
    print(report)
    if args.markdown:
        Path(args.markdown).write_text(report + "\n", encoding="utf-8")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
