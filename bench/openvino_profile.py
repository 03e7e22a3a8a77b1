"""Where an OpenVINO IR spends a call: OpenVINO's per-node profile (PERF_COUNT), summed by node type and
kernel, for each IR given, side by side in one process, and how much of a call its int8 Linear layers
(FullyConnected nodes on int8 kernels) take.

    python bench/openvino_profile.py DIR [DIR ...] [--shapes 1x16,1x128,32x64] [--repeat 10] [--threads 2]

A DIR is a crest-edge openvino artifact (inputs_embeds, its float ops at the manifest's precision hint)
or any IR directory with `model.xml` taking input_ids (e.g. the bench's `openvino-nncf-int8` peer in its
cache; compiled with OpenVINO's defaults, as the peer runs). For each IR it prints what 1.2x faster than the
fastest other would leave beside its int8 Linear layers. Only ratios within one run compare.
"""

from __future__ import annotations

import argparse
import collections
import statistics
import sys
from pathlib import Path

import numpy as np

from crest_edge.errors import ArtifactError, CrestEdgeError
from crest_edge.extras import require
from crest_edge.formats import openvino as fmt
from crest_edge.formats.artifact import open_artifact
from crest_edge.formats.manifest import MANIFEST_NAME
from crest_edge.formats.openvino_ir import EmbeddingTable


def compiled_ir(directory: Path, threads: int):
    ov = require("openvino", "bench/openvino_profile.py")
    config = {"PERF_COUNT": True, "INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY"}
    if (directory / MANIFEST_NAME).is_file():  # a crest-edge artifact: its float ops at its precision hint
        manifest = open_artifact(directory).manifest
        config["INFERENCE_PRECISION_HINT"] = manifest.model.get(
            "precision_hint", fmt.PRECISION_HINT[manifest.quantization]
        )
    try:
        return ov.Core().compile_model(str(directory / fmt.MODEL_FILE), "CPU", config)
    except RuntimeError as exc:  # OpenVINO's own exceptions for an unreadable IR
        raise ArtifactError(
            f"{directory}: OpenVINO could not compile it ({str(exc).strip().splitlines()[-1]})"
        ) from None


def feeds(directory: Path, compiled, batch: int, length: int) -> dict:
    ids = np.random.default_rng(0).integers(5, 1000, (batch, length))
    mask = np.ones((batch, length), np.int64)
    names = {name for port in compiled.inputs for name in port.get_names()}
    if fmt.INPUTS[0] in names:
        return {fmt.INPUTS[0]: EmbeddingTable(directory).rows(ids), fmt.INPUTS[1]: mask}
    return {name: ids if "input_ids" in name else mask for name in names if name in ("input_ids", "attention_mask")}


def profile(compiled, inputs: dict, repeat: int) -> tuple[float, dict[tuple[str, str], float]]:
    """Median wall ms of a call, and the median ms per (node type, kernel) summed over the graph."""
    request = compiled.create_infer_request()
    for _ in range(3):
        request.infer(inputs)
    walls, per_kind = [], collections.defaultdict(list)
    for _ in range(repeat):
        spent = collections.Counter()
        request.infer(inputs)
        walls.append(request.latency)
        for node in request.profiling_info:
            spent[node.node_type, node.exec_type] += node.real_time.total_seconds() * 1000
        for kind, ms in spent.items():
            per_kind[kind].append(ms)
    return statistics.median(walls), {kind: statistics.median(ms) for kind, ms in per_kind.items()}


def int8_linear_ms(kinds: dict[tuple[str, str], float]) -> float:
    return sum(
        ms for (node, kernel), ms in kinds.items() if node.startswith("FullyConnected") and "i8" in kernel.lower()
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="+", type=Path)
    parser.add_argument("--shapes", default="1x16,1x128,32x64", help="batch x tokens, comma-separated")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--top", type=int, default=8, help="node kinds listed per IR")
    args = parser.parse_args(argv)
    try:
        shapes = [tuple(int(n) for n in shape.split("x")) for shape in args.shapes.split(",")]
    except ValueError:
        shapes = []
    if not shapes or any(len(shape) != 2 or min(shape) < 1 for shape in shapes) or min(args.repeat, args.threads) < 1:
        problem = f"--shapes {args.shapes!r} --repeat {args.repeat} --threads {args.threads}: want 1x16, >= 1"
        sys.exit(f"bench/openvino_profile.py: {problem}")
    for directory in args.dirs:
        if not (directory / fmt.MODEL_FILE).is_file():
            sys.exit(f"bench/openvino_profile.py: {directory}: no {fmt.MODEL_FILE} there")
    try:
        report(args.dirs, shapes, args.repeat, args.threads, args.top)
    except CrestEdgeError as exc:
        sys.exit(f"bench/openvino_profile.py: {exc}")
    return 0


def report(dirs: list[Path], shapes, repeat: int, threads: int, top: int) -> None:
    for batch, length in shapes:
        print(f"\n## {batch} x {length} (median of {repeat}, {threads} threads)")
        results = {}
        for directory in dirs:
            # compiled afresh per shape: after a shape change OpenVINO's counters leave out part of the nodes
            compiled = compiled_ir(directory, threads)
            results[directory] = profile(compiled, feeds(directory, compiled, batch, length), repeat)
            del compiled
        for directory, (wall, kinds) in results.items():
            linear = int8_linear_ms(kinds)
            total = sum(kinds.values())
            print(f"{directory}: call {wall:.2f} ms; node times {total:.2f} ms, int8 Linear layers {linear:.2f}")
            for (node, kernel), ms in sorted(kinds.items(), key=lambda kv: -kv[1])[:top]:
                print(f"    {node:32s} {kernel:32s} {ms:8.2f} ms")
        for directory, (_, kinds) in results.items():
            others = [wall for other, (wall, _) in results.items() if other != directory]
            if others:
                target, linear = min(others) / 1.2, int8_linear_ms(kinds)
                print(
                    f"1.2x the fastest other ({target:.2f} ms) leaves {directory.name} {target - linear:.2f} ms beside "
                    f"its int8 Linear layers; the rest takes {sum(kinds.values()) - linear:.2f} ms today"
                )


if __name__ == "__main__":
    sys.exit(main())
