"""Size table for vocabulary trimming: full vs trimmed checkpoints, per format and precision.

    python bench/trim_sizes.py SRC --packs europe indic --work DIR [--json OUT.json] [--md OUT.md] [--check]

For the source and each pack's trimmed checkpoint: parameters, the file size of every artifact
(CT2 float32 / int8, GGUF f32 / q8_0 / q4_k_m, ONNX fp32 / int8), and, each in a fresh process
(`--repeat` times, median), the seconds Guard.load takes (integrity check included) and the peak RSS
after loading and classifying one text. `--check` adds the per-language parity of the trimmed fp32
model against the untrimmed one (crest_edge.trim.check). Conversions are cached in --work.
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

ARTIFACTS = [("ct2", "float32"), ("ct2", "int8"), ("gguf", "f32"), ("gguf", "q8_0"), ("gguf", "q4_k_m")]
ARTIFACTS += [("onnx", "fp32"), ("onnx", "int8")]
PROBE = """
import json, sys, time
from crest_edge.benchmark.worker import peak_rss_mb
start = time.perf_counter()
from crest_edge import Guard
guard = Guard.load(sys.argv[1], device="cpu", threads=1)
loaded = time.perf_counter() - start
guard.classify("How do I bake bread at home?")
print(json.dumps({"load_s": loaded, "peak_rss_mb": peak_rss_mb()}))
"""


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def parameters(checkpoint: Path) -> int:
    from crest_edge.formats.checkpoint import open_checkpoint

    return sum(int(t.size) for t in open_checkpoint(checkpoint).tensors().values())


def probe(path: Path, repeat: int) -> dict:
    runs = []
    for _ in range(repeat):
        done = subprocess.run([sys.executable, "-c", PROBE, str(path)], capture_output=True, text=True, timeout=1800)
        if done.returncode != 0:
            return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"rc {done.returncode}"}
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return {key: statistics.median(r[key] for r in runs) for key in ("load_s", "peak_rss_mb")} | {"repeat": repeat}


def variant(name: str, checkpoint: Path, work: Path, repeat: int, formats) -> dict:
    from crest_edge.benchmark.artifacts import size_mb
    from crest_edge.convert import convert
    from crest_edge.formats.artifact import open_artifact

    row = {"variant": name, "checkpoint": str(checkpoint), "parameters": parameters(checkpoint)}
    row["vocab_size"] = json.loads((checkpoint / "config.json").read_text())["vocab_size"]
    row["checkpoint_mb"] = size_mb(checkpoint / "model.safetensors")
    row["artifacts"] = {}
    for fmt, quant in formats:
        out = work / name / (f"{quant}.gguf" if fmt == "gguf" else f"{fmt}-{quant}")
        entry = {}
        try:
            if not out.exists():
                say(f"{name}: converting to {fmt} {quant}")
                started = time.perf_counter()
                convert(checkpoint, out, fmt, quant)
                entry["convert_s"] = round(time.perf_counter() - started, 1)
            open_artifact(out, verify=None)
            entry["size_mb"] = size_mb(out)
            say(f"{name}: {fmt} {quant} {entry['size_mb']:.1f} MB; loading it {repeat}x")
            entry.update(probe(out, repeat))
        except Exception as exc:  # a failed conversion is a row with its error, the others still run
            entry["error"] = f"{type(exc).__name__}: {exc}"
            say(f"{name}: {fmt} {quant} failed: {entry['error']}")
        row["artifacts"][f"{fmt} {quant}"] = entry
    return row


def markdown(report: dict) -> str:
    keys = list(report["variants"][0]["artifacts"])
    head = "| variant | vocab | parameters | " + " | ".join(f"{k} MB" for k in keys) + " |"
    lines = [head, "|" + "---|" * (3 + len(keys))]
    for v in report["variants"]:
        cells = [f"{a['size_mb']:.1f}" if "size_mb" in a else "failed" for a in v["artifacts"].values()]
        lines.append(
            f"| {v['variant']} | {v['vocab_size']:,} | {v['parameters'] / 1e6:.1f}M | " + " | ".join(cells) + " |"
        )
    lines += ["", "| variant | " + " | ".join(keys) + " |", "|" + "---|" * (1 + len(keys))]
    for v in report["variants"]:
        cells = []
        for a in v["artifacts"].values():
            cells.append(f"{a['load_s']:.2f} s / {a['peak_rss_mb']:.0f} MB" if "load_s" in a else "-")
        lines.append(f"| {v['variant']} (load / peak RSS) | " + " | ".join(cells) + " |")
    for v in report["variants"]:
        check = v.get("check")
        if not check:
            continue
        lines += ["", f"Parity of {v['variant']} (trimmed fp32 vs untrimmed fp32, parity corpus lines):", ""]
        lines += [
            "| lang | n | changed tokenization | guarded | agreement | max abs dp | all lines: agreement | max dp |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for lang, f in [*check["by_lang"].items(), ("all", check["overall"])]:
            agreement = f"{f['agreement']:.2%}" if "agreement" in f else "-"
            dp = f"{f['max_dp']:.2g}" if "max_dp" in f else "-"
            every = f"{f['all_lines']['agreement']:.2%} | {f['all_lines']['max_dp']:.2g}"
            lines.append(
                f"| {lang} | {f['n']} | {f['changed_tokenization']} | {f['guarded']} | {agreement} | {dp} | {every} |"
            )
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("src")
    parser.add_argument("--packs", nargs="+", default=["europe", "indic"])
    parser.add_argument("--work", required=True, help="where trimmed checkpoints and artifacts are kept")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--formats", help="comma-separated fmt:quant (default: all seven)")
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--json")
    parser.add_argument("--md")
    args = parser.parse_args(argv)

    from crest_edge.benchmark.report import machine, versions
    from crest_edge.trim.build import trim

    formats = [tuple(x.split(":")) for x in args.formats.split(",")] if args.formats else ARTIFACTS
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    src = Path(args.src)
    report = {"source": str(src), "machine": machine(), "versions": versions(), "variants": []}
    report["load_average_start"] = os.getloadavg()[0]
    report["variants"].append(variant("full", src, work, args.repeat, formats))
    for pack in args.packs:
        checkpoint = work / f"trimmed-{pack}"
        if not checkpoint.exists():
            say(f"trimming to {pack}")
            trim(src, checkpoint, [pack])
        row = variant(pack, checkpoint, work, args.repeat, formats)
        if args.check:
            from crest_edge.trim.check import check_trim

            say(f"{pack}: parity against the untrimmed fp32 model")
            row["check"] = check_trim(src, checkpoint, threads=1)
        report["variants"].append(row)
    report["load_average_end"] = os.getloadavg()[0]
    text = markdown(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if args.md:
        Path(args.md).write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
