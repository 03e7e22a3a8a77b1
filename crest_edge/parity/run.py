"""Run a parity check: the reference once, then each candidate on its own engine, compared text by text."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import sys
import time
from pathlib import Path

import numpy as np

from crest_edge.data import parity_corpus_path, read_jsonl
from crest_edge.errors import CrestEdgeError
from crest_edge.formats.manifest import sha256_file
from crest_edge.log import log
from crest_edge.verdict import unsafe_index

from . import gates, metrics

UNKNOWN = "unknown"
PROGRESS_CHUNK = 256  # texts per engine call between progress updates


def load_corpus(path=None) -> dict:
    """A corpus as {name, path, sha256, rows}; rows carry text, lang, script, label ("unknown" if absent)."""
    path = Path(path) if path else parity_corpus_path()
    rows = read_jsonl(path)
    if not rows:
        raise CrestEdgeError(f"{path}: no texts")
    for row in rows:
        for key in ("lang", "script", "label"):
            value = row.get(key)
            row[key] = UNKNOWN if value is None or value == "" else value
    return {"name": path.name, "path": str(path), "sha256": sha256_file(path), "rows": rows}


def _gold(rows: list[dict], labels: list[str]) -> list[str]:
    """Gold labels as label names: an integer label is an index into `labels`."""
    out = []
    for row in rows:
        label = row["label"]
        if isinstance(label, int) and not isinstance(label, bool) and 0 <= label < len(labels):
            label = labels[label]
        out.append(str(label))
    return out


def _run(path, device: str, threads: int | None, texts: list[str]):
    from tqdm import tqdm

    from crest_edge.guard import Guard

    start = time.perf_counter()
    guard = Guard.load(path, device=device, threads=threads)
    try:
        parts = []
        # A bar only on a terminal (disable=None); chunks keep it moving on a base-shaped model.
        with tqdm(total=len(texts), desc=Path(path).name, unit="text", file=sys.stderr, disable=None) as bar:
            for at in range(0, len(texts), PROGRESS_CHUNK):
                parts.append(guard.logits(texts[at : at + PROGRESS_CHUNK]))
                bar.update(len(parts[-1]))
        return np.concatenate(parts), guard, time.perf_counter() - start
    finally:
        guard.close()


def compare(rows, ref_logits, cand_logits, labels, threshold: float = 0.5) -> dict:
    positive = unsafe_index(labels)
    return {
        "overall": metrics.summarize(ref_logits, cand_logits, positive, threshold),
        "by_lang": metrics.by_group(ref_logits, cand_logits, [r["lang"] for r in rows], positive, threshold),
        "by_script": metrics.by_group(ref_logits, cand_logits, [r["script"] for r in rows], positive, threshold),
        "flipped": metrics.flipped(ref_logits, cand_logits, rows, labels, positive, threshold),
        "accuracy": metrics.gold_accuracy(cand_logits, _gold(rows, labels), labels, positive, threshold),
    }


@dataclasses.dataclass
class Reference:
    """The reference run on a corpus, kept to compare every candidate with."""

    corpus: dict
    logits: np.ndarray
    labels: list[str]
    info: dict
    threshold: float = 0.5

    @property
    def rows(self) -> list[dict]:
        return self.corpus["rows"]


def run_reference(
    reference, corpus=None, *, device: str = "cpu", threads: int | None = None, threshold: float = 0.5
) -> Reference:
    """Run `reference` (the fp32 checkpoint) once on `corpus` (default: the project corpus)."""
    corpus = load_corpus(corpus)
    logits, guard, seconds = _run(reference, device, threads, [r["text"] for r in corpus["rows"]])
    if guard.artifact.format != "hf":
        log.warning("parity reference %s is a %s artifact, not the fp32 checkpoint", reference, guard.artifact.format)
    labels = guard.labels
    accuracy = metrics.gold_accuracy(logits, _gold(corpus["rows"], labels), labels, unsafe_index(labels), threshold)
    info = {"path": str(reference), **_engine(guard), "seconds": round(seconds, 2), "accuracy": accuracy}
    return Reference(corpus, logits, labels, info, threshold)


def run_parity(
    reference,
    candidates,
    corpus=None,
    *,
    device: str = "auto",
    reference_device: str = "cpu",
    threads: int | None = None,
    threshold: float = 0.5,
    overrides: dict | None = None,
) -> dict:
    """Compare every candidate artifact with `reference` on `corpus`; the report as a JSON-ready dict.

    A candidate that cannot be opened or run is reported as failed with its error; the others still run.
    """
    if not candidates:
        raise CrestEdgeError("no candidates given")
    ref = run_reference(reference, corpus, device=reference_device, threads=threads, threshold=threshold)
    return make_report(
        ref, [check_candidate(p, ref, device=device, threads=threads, overrides=overrides) for p in candidates]
    )


def make_report(ref: Reference, entries: list[dict]) -> dict:
    corpus = ref.corpus
    return {
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "corpus": {"name": corpus["name"], "path": corpus["path"], "sha256": corpus["sha256"], "n": len(ref.rows)},
        "threshold": ref.threshold,
        "near_band": [max(0.0, ref.threshold - metrics.NEAR_BAND), min(1.0, ref.threshold + metrics.NEAR_BAND)],
        "reference": ref.info,
        "candidates": entries,
        "passed": all(c["passed"] for c in entries),
    }


def _engine(guard) -> dict:
    info = guard.info
    return {
        "format": guard.artifact.format,
        "quantization": guard.artifact.precision,
        "engine": info.engine,
        "device": info.device,
        "precision": info.precision,
        "detail": info.detail,
    }


def check_candidate(
    path, ref: Reference, *, device: str = "auto", threads: int | None = None, overrides: dict | None = None
) -> dict:
    """Run one candidate on the reference's corpus and gate it by its precision class."""
    rows, labels = ref.rows, ref.labels
    entry = {"path": str(path)}
    try:
        cand_logits, guard, seconds = _run(path, device, threads, [r["text"] for r in rows])
        entry.update(_engine(guard), seconds=round(seconds, 2))
        if guard.labels != labels:
            raise CrestEdgeError(f"{path}: labels {guard.labels} differ from the reference's {labels}")
        entry["class"] = gates.effective_class(entry["quantization"], entry["precision"])
        limits = gates.gate_limits(entry["class"], overrides)
    except CrestEdgeError as exc:
        log.warning("parity: %s failed: %s", path, exc)
        return {**entry, "error": str(exc), "gates": [], "passed": False}
    entry.update(compare(rows, ref.logits, cand_logits, labels, ref.threshold))
    results = gates.check(entry["overall"], limits)
    entry["gates"] = [{**vars(r), "text": r.describe()} for r in results]
    entry["passed"] = all(r.passed for r in results)
    return entry
