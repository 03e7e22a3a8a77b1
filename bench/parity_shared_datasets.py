"""Parity on the shared real-prompt sets: MultiJail (10 languages, all unsafe) and XSTest (English,
safe prompts that look unsafe plus unsafe contrasts).

The CSVs are converted to temporary JSONL corpora outside the repository (they must never be
copied into it) and the parity suite (crest_edge.parity.run_parity) runs once per data set:

    python bench/parity_shared_datasets.py --reference CKPT --candidate A [B ...] --out /tmp/parity-shared
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
from pathlib import Path

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"  # ../shared beside the checkout
MULTIJAIL_LANGS = {
    "en": "Latin",
    "zh": "Han",
    "it": "Latin",
    "vi": "Latin",
    "ar": "Arabic",
    "ko": "Hangul",
    "th": "Thai",
    "bn": "Bengali",
    "sw": "Latin",
    "jv": "Latin",
}


def _rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as handle:  # MultiJail starts with a BOM
        return list(csv.DictReader(handle))


def multijail(path: Path) -> list[dict]:
    return [
        {"text": row[lang], "lang": lang, "script": script, "label": "unsafe", "id": f"{row['id']}-{lang}"}
        for row in _rows(path)
        for lang, script in MULTIJAIL_LANGS.items()
        if row[lang].strip()
    ]


def xstest(path: Path) -> list[dict]:
    return [
        {
            "text": row["prompt"],
            "lang": "en",
            "script": "Latin",
            "label": row["label"],
            "id": row["id"],
            "type": row["type"],
        }
        for row in _rows(path)
    ]


def write_jsonl(rows: list[dict], path: Path) -> Path:
    with open(path, "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    return path


def main(argv=None) -> int:
    from crest_edge.parity import report, run_parity

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", required=True)
    parser.add_argument("--candidate", required=True, nargs="+")
    parser.add_argument("--datasets", type=Path, default=DATASETS)
    parser.add_argument("--out", type=Path, help="directory for the JSONL corpora and reports (default: a temp dir)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int)
    args = parser.parse_args(argv)
    repo = Path(__file__).resolve().parents[1]
    out = args.out or Path(tempfile.mkdtemp(prefix="crest-parity-shared-"))
    if out.resolve().is_relative_to(repo):
        parser.error(f"--out {out} is inside the repository; the shared data sets must stay outside it")
    out.mkdir(parents=True, exist_ok=True)
    worst = 0
    for name, reader, csv_name in (("multijail", multijail, "MultiJail.csv"), ("xstest", xstest, "xstest_prompts.csv")):
        corpus = write_jsonl(reader(args.datasets / csv_name), out / f"{name}.jsonl")
        print(f"== {name}: {corpus}", flush=True)
        result = run_parity(args.reference, args.candidate, corpus, device=args.device, threads=args.threads)
        (out / f"{name}.json").write_text(report.to_json(result) + "\n", encoding="utf-8")
        (out / f"{name}.md").write_text(report.to_markdown(result), encoding="utf-8")
        print("\n".join(report.summary_table(result)))
        failed = report.failures(result)
        print("\n".join(failed) if failed else "all gates passed")
        worst = max(worst, 1 if failed else 0)
        print(f"reports: {out / (name + '.md')}, {out / (name + '.json')}", flush=True)
    return worst


if __name__ == "__main__":
    sys.exit(main())
