"""GGUF type recipes before and after: every quantized GGUF type written as llama.cpp chooses alone
("plain") and with crest-edge's outlier-aware recipe (crest_edge.formats.gguf.TYPE_RECIPES), side by
side in one run: parity against the fp32 reference on the project corpus (crest_edge.parity), file
size, and the median of the raw engine call (the llama.cpp adapter's logits on fixed token batches).

    python bench/gguf_recipes.py CHECKPOINT [--quants q8_0,q4_k_m] [--imatrix] [--repeat 20] [--out DIR]

`--imatrix` adds each recipe with llama.cpp's importance matrix computed from the fp32 reference on
256 seed-set texts (crest_edge.convert.calibration). Timings: one thread per engine, every file
interleaved call by call.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from crest_edge.convert import gguf as gguf_convert
from crest_edge.formats import gguf as fmt
from crest_edge.formats.checkpoint import open_checkpoint
from crest_edge.guard import Guard
from crest_edge.parity import check_candidate, run_reference
from crest_edge.tokenizer import BOS_ID, EOS_ID

WORKLOADS = ((1, 16), (1, 128), (8, 64))  # batch x tokens, <s> and </s> included


def token_batches(vocab: int) -> dict[tuple[int, int], list[list[int]]]:
    """Fixed id sequences per workload (ids from the middle of the vocabulary, same for every file)."""
    out = {}
    for batch, length in WORKLOADS:
        out[batch, length] = [
            [BOS_ID, *[5 + (7 * i + 13 * b) % (vocab - 10) for i in range(length - 2)], EOS_ID] for b in range(batch)
        ]
    return out


def time_engines(paths: list[Path], batches, repeat: int) -> list[dict[str, float]]:
    """Median ms of the raw engine call per workload for every file, the files interleaved call by call
    (a load that drifts during the run then hits them all alike)."""
    guards = [Guard.load(path, device="cpu", threads=1) for path in paths]
    try:
        seconds = [{key: [] for key in batches} for _ in paths]
        for guard in guards:
            for ids in batches.values():
                guard.engine.logits(ids)  # warm-up
        for _ in range(repeat):
            for key, ids in batches.items():
                for guard, timed in zip(guards, seconds):
                    t0 = time.perf_counter()
                    guard.engine.logits(ids)
                    timed[key].append(time.perf_counter() - t0)
        return [{f"{b}x{n}": statistics.median(t[b, n]) * 1e3 for b, n in batches} for t in seconds]
    finally:
        for guard in guards:
            guard.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("--quants", default=",".join(fmt.TYPE_RECIPES))
    parser.add_argument("--imatrix", action="store_true", help="also measure each recipe with an importance matrix")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--out", help="where the files go (default: a temporary directory)")
    args = parser.parse_args(argv)
    checkpoint = open_checkpoint(args.checkpoint)
    tensors = checkpoint.validated_tensors()
    out = Path(args.out or tempfile.mkdtemp(prefix="gguf-recipes-"))
    out.mkdir(parents=True, exist_ok=True)
    importance = None
    if args.imatrix:
        from crest_edge.convert.calibration import calibration_texts, input_second_moments

        moments = input_second_moments(checkpoint, calibration_texts())
        importance = {fmt.tensor_name(name): values for name, values in moments.items()}
    variants = []
    for quant in args.quants.split(","):
        variants.append((quant, "plain", {}, None))
        variants.append((quant, "recipe", fmt.TYPE_RECIPES.get(quant, {}), None))
        if importance:
            variants.append((quant, "recipe+imatrix", fmt.TYPE_RECIPES.get(quant, {}), importance))
    reference = run_reference(checkpoint.path, threads=1)
    batches = token_batches(int(checkpoint.config["vocab_size"]))
    load = os.getloadavg()
    print(f"{checkpoint.path} on {reference.corpus['name']} ({len(reference.rows)} texts); load {load[0]:.1f}")
    print(
        "| quant | recipe | agreement | flips | max Δp | max Δlogit | gates | size MB | ms "
        + " | ms ".join(f"{b}x{n}" for b, n in WORKLOADS)
        + " |"
    )
    print("|---" * (8 + len(WORKLOADS)) + "|")
    rows = []
    for quant, name, types, imatrix in variants:
        path = out / f"{checkpoint.path.name}.{quant}.{name}.gguf"
        path.unlink(missing_ok=True)
        gguf_convert.write(checkpoint, tensors, path, quant, types, imatrix)
        rows.append((quant, name, types, path, check_candidate(path, reference, device="cpu", threads=1)))
    timings = time_engines([row[3] for row in rows], batches, args.repeat)
    for (quant, name, types, path, entry), ms in zip(rows, timings):
        o = entry["overall"]
        recipe = name + ("" if not types else " (" + ", ".join(f"{g}={t}" for g, t in types.items()) + ")")
        print(
            f"| {quant} | {recipe} | {o['agreement']:.2%} | {o['flips']} | {o['max_dp']:.4f} | {o['max_dlogit']:.3g} "
            f"| {'pass' if entry['passed'] else 'FAIL'} | {path.stat().st_size / 1e6:.2f} | "
            + " | ".join(f"{v:.2f}" for v in ms.values())
            + " |",
            flush=True,
        )
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
