"""The failure policy, in one place: what a text gets when the engine could not classify it.

`block` (the service default) answers it as unsafe, `allow` as safe, both with the error named;
`error` answers the whole request 503. The server loads its Guard with the matching `on_error`
("block", "allow", or "raise" for `error`), so Guard itself retries a failing text alone and gives it
the policy's verdict (crest_edge.verdict.on_error_verdict) with `error` set; what Guard raises (a Guard
handed to create_app with on_error="raise", or a failure in `logits` for raw scores) is caught here,
retried text by text, and answered the same way.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence

from ..verdict import Verdict, on_error_verdict

log = logging.getLogger(__name__)

ON_ERROR = ("block", "allow", "error")


@dataclasses.dataclass(frozen=True)
class Outcome:
    verdict: Verdict | None  # None when the engine failed on this text
    error: str | None = None
    logits: list[float] | None = None  # raw logits of the deciding window, only when asked for
    tokens: int = 0  # of a failed text, as counted for batching (a verdict carries its own)


class EngineFailed(Exception):
    """on_error=error: the engine failed on a text of this request; the request is answered 503."""


def run_texts(guard, texts: Sequence[str], want_logits: Sequence[bool]) -> list[Outcome]:
    """Classify in one engine call; on a failure, retry each text alone so that one bad text (or a
    transient fault) does not take its batch neighbours down with it."""
    try:
        return _classified(guard, texts, want_logits)
    except Exception as exc:  # any engine failure is answered by the policy, never a 500
        if len(texts) == 1:
            log.error("engine failed: %s: %s", type(exc).__name__, exc)
            return [Outcome(None, f"engine failed: {type(exc).__name__}: {exc}")]
    outcomes = []
    for text, want in zip(texts, want_logits):
        outcomes.extend(run_texts(guard, [text], [want]))
    return outcomes


def _classified(guard, texts, want_logits) -> list[Outcome]:
    """Guard never returns a non-finite score: it raises, or gives the on_error verdict with `error`."""
    verdicts = guard.classify_batch(texts)
    raw = [i for i, want in enumerate(want_logits) if want and verdicts[i].error is None]
    logits = dict(zip(raw, guard.logits([texts[i] for i in raw]).tolist())) if raw else {}
    return [Outcome(v, v.error, logits.get(i)) for i, v in enumerate(verdicts)]


def resolve(outcomes: Sequence[Outcome], on_error: str, labels: list[str]) -> list[Outcome]:
    """Outcomes with a verdict for every text, per the policy; raises EngineFailed under `error`."""
    failed = [o.error for o in outcomes if o.error is not None]
    if failed and on_error == "error":
        raise EngineFailed(failed[0])
    return [
        o if o.verdict else Outcome(on_error_verdict(on_error, o.error, labels, 0.5, o.tokens, 0), o.error)
        for o in outcomes
    ]


GUARD_ON_ERROR = {"block": "block", "allow": "allow", "error": "raise"}  # the service's policy -> Guard's
