"""What the quantization tests share: the targets the registry lists, an on-demand converter and the
batch-versus-single comparison."""

from pathlib import Path

import pytest

from crest_edge.registry import FORMATS

# every --quant the converters offer, as (format, quant)
TARGETS = [(fmt, quant) for fmt, spec in FORMATS.items() for quant in spec.quants]


def target_id(target) -> str:
    return "-".join(target)


def unsupported_here(fmt: str, quant: str) -> str | None:
    """Why this machine cannot run `fmt` at `quant` (CTranslate2 refuses compute types the CPU lacks)."""
    if fmt != "ct2":
        return None
    import ctranslate2

    supported = ctranslate2.get_supported_compute_types("cpu")
    if quant not in supported:
        return f"CTranslate2 cannot compute in {quant} on this CPU (supported: {', '.join(sorted(supported))})"
    return None


def runnable(build):
    """`build(fmt, quant)` (a session's converter fixture) that skips, with the reason, what this machine
    cannot run."""

    def artifact(fmt: str, quant: str) -> Path:
        reason = unsupported_here(fmt, quant)
        if reason:
            pytest.skip(reason)
        return build(fmt, quant)

    return artifact


def batch_vs_single(path, texts) -> float:
    """The largest |Δp(unsafe)| between `classify_batch(texts)` and `classify(text)` one at a time."""
    import numpy as np

    from crest_edge import Guard

    with Guard.load(path, device="cpu", threads=1) as guard:
        together = np.array([v.score for v in guard.classify_batch(texts)])
        alone = np.array([guard.classify(text).score for text in texts])
    return float(np.abs(together - alone).max())
