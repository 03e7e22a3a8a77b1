"""Parity-gated conversion: `crest-edge convert SRC --to FMT --quant auto-8bit|auto-4bit`.

Every candidate of the asked precision class that the format lists (registry: FormatSpec.auto, cheapest
first) is converted, checked against the fp32 reference on the calibration set (the project's seed
corpus, never the parity corpus, so the parity report stays an independent check) and timed; the
fastest one that passes is kept. Passing here is stricter than the class's gates (parity.gates.
selection_limits: half each maximum), as a user's texts are not the calibration set. Its manifest
records what was chosen, everything that was tried, and the measured figures (`selection`). When none
passes, nothing is written and the error lists every candidate's figures.
"""

from __future__ import annotations

import dataclasses
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from . import registry
from .data import seed_corpus_path
from .errors import ConversionError
from .formats.outputs import check_artifact_output
from .log import log

TIMED_TEXTS = 16  # calibration texts per timed call
TIMED_REPEATS = 5


@dataclasses.dataclass(frozen=True)
class Candidate:
    quant: str
    options: dict = dataclasses.field(default_factory=dict)  # passed to the format's writer

    @property
    def name(self) -> str:
        extra = ",".join(f"{k}={v}" for k, v in sorted(self.options.items()))
        return f"{self.quant}[{extra}]" if extra else self.quant


def auto_class(quant: str) -> str | None:
    """The precision class an `auto-...` quant asks for (auto-8bit -> 8-bit); None for a plain quant."""
    if not quant.startswith(registry.AUTO_PREFIX):
        return None
    return quant[len(registry.AUTO_PREFIX) :].replace("bit", "-bit")


def candidates(fmt: str, klass: str) -> list[Candidate]:
    spec = registry.format_spec(fmt)
    if klass not in spec.auto:
        offered = ", ".join(map(registry.auto_quant, spec.auto)) or "none"
        raise ConversionError(f"--quant {registry.auto_quant(klass)} is not available for {fmt}; choose from {offered}")
    return [Candidate(q, dict(o)) for q, o in spec.auto[klass]]


def convert_auto(src, out, fmt: str, quant: str, force: bool = False, calibration=None, threads: int | None = None):
    """Convert `src` with the fastest candidate of `quant`'s class that passes its gates; return the path."""
    from .convert import convert
    from .parity import check_candidate, run_reference
    from .parity.gates import SELECTION_HEADROOM, describe_limits, selection_limits
    from .parity.record import parity_summary, write_selection

    klass = auto_class(quant)
    todo = candidates(fmt, klass)
    limits = selection_limits(klass)
    out = check_artifact_output(out, force, src)
    calibration = Path(calibration) if calibration else seed_corpus_path()
    reference = run_reference(src, calibration, device="cpu", threads=threads)
    single = registry.format_spec(fmt).single_file
    out.parent.mkdir(parents=True, exist_ok=True)
    trials = []
    with tempfile.TemporaryDirectory(prefix=f".{out.name}.auto.", dir=out.parent) as staging:
        for i, cand in enumerate(todo):
            path = Path(staging) / (f"candidate{i}.gguf" if single else f"candidate{i}")
            started = time.perf_counter()
            convert(src, path, fmt, cand.quant, options=cand.options)
            seconds = time.perf_counter() - started
            entry = check_candidate(path, reference, device="cpu", threads=threads, overrides=limits)
            trial = {"candidate": cand.name, "quant": cand.quant, "options": cand.options, "path": path}
            trial["convert_s"] = round(seconds, 1)
            trial["size_mb"] = round(_size_mb(path), 2)
            if "error" in entry:
                trial.update(passed=False, error=entry["error"])
            else:
                trial.update({k: entry["overall"][k] for k in ("agreement", "flips", "max_dp", "max_dlogit")})
                trial["passed"] = entry["passed"] and entry["class"] == klass  # an engine fallback is not it
                trial["entry"] = entry
            log.info("auto: %s %s", cand.name, "passed" if trial["passed"] else "failed")
            trials.append(trial)
        passing = [t for t in trials if t["passed"]]
        if not passing:
            raise ConversionError(
                f"no {fmt} {klass} candidate passes on {calibration.name} ({describe_limits(limits)}): "
                + "; ".join(map(_brief, trials))
            )
        _time(passing, [r["text"] for r in reference.rows[:TIMED_TEXTS]], threads)
        chosen = min(passing, key=lambda t: t["ms"])
        summary = parity_summary(_single_report(reference, chosen["entry"]), chosen["entry"])
        record = {
            "asked": quant,
            "class": klass,
            "chosen": chosen["candidate"],
            "rule": f"the fastest candidate (median ms on calibration texts) with {describe_limits(limits)} "
            f"(the {klass} gates, maxima x {SELECTION_HEADROOM})",
            "calibration": summary["corpus"],
            "tried": [_public(t) for t in trials],
        }
        write_selection(chosen["path"], record, summary)
        if out.exists():
            shutil.rmtree(out) if out.is_dir() else out.unlink()
        Path(chosen["path"]).rename(out)
    return out


def _single_report(reference, entry: dict) -> dict:
    from .parity import make_report

    return make_report(reference, [entry])


def _time(trials: list[dict], texts: list[str], threads) -> None:
    """Median ms per call of each trial's artifact on `texts`, in interleaved rounds so that load from
    elsewhere on a shared machine falls on every candidate alike."""
    from .guard import Guard

    guards = [Guard.load(t["path"], device="cpu", threads=threads) for t in trials]
    try:
        times = [[] for _ in guards]
        for guard in guards:
            guard.logits(texts)  # warm-up
        for _ in range(TIMED_REPEATS):
            for guard, spent in zip(guards, times):
                started = time.perf_counter()
                guard.logits(texts)
                spent.append(time.perf_counter() - started)
        for trial, spent in zip(trials, times):
            trial["ms"] = round(1000 * statistics.median(spent), 3)
    finally:
        for guard in guards:
            guard.close()


def _size_mb(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 1e6


def _public(trial: dict) -> dict:
    return {k: v for k, v in trial.items() if k not in ("path", "entry")}


def _brief(trial: dict) -> str:
    if "error" in trial:
        return f"{trial['candidate']}: {trial['error']}"
    return f"{trial['candidate']}: agreement {trial['agreement']:.2%}, max |Δp| {trial['max_dp']:.3g}"
