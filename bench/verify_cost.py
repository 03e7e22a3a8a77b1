"""What the integrity check costs at load: open_artifact with verify="full" and "cached", median
seconds over repeats, per artifact.

    python bench/verify_cost.py ARTIFACT [ARTIFACT ...] [--repeat 5]

"full" reads every byte through sha256 (page cache warm after the first repeat, as on a device that
loads the same file again); "cached" only stats the files against a recorded verification.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from crest_edge.benchmark.artifacts import size_mb
from crest_edge.formats.artifact import open_artifact


def median_seconds(path: str, mode: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        open_artifact(path, verify=mode)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("artifacts", nargs="+")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f}; {os.cpu_count()} CPUs")
    print("| artifact | MB | full s | MB/s | cached s |")
    print("|---|---:|---:|---:|---:|")
    for path in args.artifacts:
        open_artifact(path, verify="full")  # warm the page cache and record the verification
        full = median_seconds(path, "full", args.repeat)
        cached = median_seconds(path, "cached", args.repeat)
        mb = size_mb(path)
        print(f"| {os.path.basename(path.rstrip('/'))} | {mb:.1f} | {full:.3f} | {mb / full:.0f} | {cached:.4f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
