"""Two or more ONNX graphs of one model timed against each other: each round runs every graph in a fresh
process (so no session's idle threads compete with another's), in turn; the figure is the median over
rounds of each round's median raw `session.run` time, ms.

    python bench/onnx_graphs.py plain=DIR_OR_MODEL_ONNX new=DIR ... [--rounds 3] [--repeat 9]
        [--workloads 1x16,1x64,1x128,32x16,32x64] [--json OUT]

Use it to attribute a change in a converter's graph (the same model before and after), where
`crest-edge bench` measures one artifact per format and cannot hold two builds of it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path


def time_graph(path: str, workloads: list[tuple[int, int]], repeat: int) -> dict[str, float]:
    """Median ms per workload for one graph, in this process (ORT's default CPU session)."""
    import numpy as np
    import onnxruntime as ort

    model = Path(path) / "model.onnx" if Path(path).is_dir() else Path(path)
    vocab = vocab_size(model)
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    out = {}
    for batch, length in workloads:
        ids = rng.integers(5, vocab, size=(batch, length))
        ids[:, 0], ids[:, -1] = 0, 2
        feed = {"input_ids": ids.astype(np.int64), "attention_mask": np.ones((batch, length), np.int64)}
        for _ in range(2):
            session.run(None, feed)
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            session.run(None, feed)
            times.append((time.perf_counter() - started) * 1000)
        out[f"{batch}x{length}"] = statistics.median(times)
    return out


def vocab_size(model: Path) -> int:
    """Rows of the word-embedding table the graph gathers `input_ids` from (float or int8)."""
    import onnx

    graph = onnx.load(str(model), load_external_data=False).graph
    rows = {t.name: t.dims[0] for t in graph.initializer if t.dims}
    for node in graph.node:
        if node.op_type == "Gather" and node.input[1] == "input_ids" and node.input[0] in rows:
            return rows[node.input[0]]
    raise SystemExit(f"{model}: no word-embedding Gather reads input_ids")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("graphs", nargs="*", metavar="NAME=PATH")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--workloads", default="1x16,1x64,1x128,32x16,32x64")
    parser.add_argument("--json", metavar="OUT")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: time one graph, print JSON
    args = parser.parse_args()
    workloads = [tuple(int(n) for n in w.split("x")) for w in args.workloads.split(",")]
    if args.one:
        print(json.dumps(time_graph(args.one, workloads, args.repeat)))
        return 0
    if not args.graphs or not all("=" in g for g in args.graphs):
        parser.error("give graphs as NAME=PATH")
    graphs = dict(g.split("=", 1) for g in args.graphs)
    load = [os.getloadavg()[0]]
    rounds: dict[str, list[dict[str, float]]] = {name: [] for name in graphs}
    for _ in range(args.rounds):
        for name, path in graphs.items():
            command = [sys.executable, __file__, "--one", path, "--repeat", str(args.repeat)]
            command += ["--workloads", args.workloads]
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode:
                lines = done.stderr.strip().splitlines() or ["no output"]
                print(f"onnx_graphs.py: {name} ({path}) failed: {lines[-1]}", file=sys.stderr)
                return 1
            rounds[name].append(json.loads(done.stdout))
    load.append(os.getloadavg()[0])
    medians = {name: {w: statistics.median(r[w] for r in runs) for w in runs[0]} for name, runs in rounds.items()}
    first = next(iter(graphs))
    print(f"load average {load[0]:.1f} -> {load[1]:.1f}; {os.cpu_count()} CPUs; {args.rounds} rounds")
    print("| graph | " + " | ".join(w.replace("x", " × ") for w in medians[first]) + " |")
    print("|---|" + "---:|" * len(medians[first]))
    for name, row in medians.items():
        cells = [f"{ms:.2f} ({medians[first][w] / ms:.2f}×)" for w, ms in row.items()]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print(f"(×: {first}'s time / this one's)")
    if args.json:
        Path(args.json).write_text(json.dumps({"load": load, "rounds": rounds, "medians": medians}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
