"""The columns a classified row gains, computed the same way by the local job and the Ray actors, so
a row's result does not depend on which of the two ran it.

A row whose text is missing, null or not a string is a bad row, not a reason to stop a long job: it
gets the verdict of a text the engine failed on (crest_edge.verdict), "allow" when `on_error` is
"allow" and "block" otherwise (unsafe, score 1.0: fail closed), with `crest_error` saying why, and
0 tokens and 0 windows (nothing was classified). An empty string is a text like any other.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..verdict import Verdict, on_error_verdict

ROW_FIELD = "crest_row"  # the local job: the row's 0-based position in the input
# name -> Arrow type alias, in output order
RESULT_TYPES = {
    "crest_label": "string",
    "crest_score": "float64",  # p(unsafe), of the most unsafe window
    "crest_tokens": "int64",
    "crest_windows": "int64",
    "crest_error": "string",  # null unless the row was bad or the engine failed on it
}
ADDED_FIELDS = (ROW_FIELD, *RESULT_TYPES)


def bad_text_reason(text_field: str, value) -> str:
    if value is None:
        return f"no text: {text_field!r} is missing or null"
    return f"no text: {text_field!r} is {type(value).__name__}, not a string"


def bad_row_verdict(guard, text_field: str, value) -> Verdict:
    policy = "allow" if guard.on_error == "allow" else "block"
    return on_error_verdict(policy, bad_text_reason(text_field, value), guard.labels, guard.threshold, 0, 0)


def result_columns(verdict: Verdict) -> dict:
    return {
        "crest_label": verdict.label,
        "crest_score": verdict.score,
        "crest_tokens": verdict.tokens,
        "crest_windows": verdict.windows,
        "crest_error": verdict.error,
    }


def classify_values(guard, text_field: str, values: Sequence) -> list[dict]:
    """The result columns of each value of the text field, in order: the strings classified together
    in one `classify_batch` call (length-sorted inside it), every other value a bad row."""
    texts = [(i, value) for i, value in enumerate(values) if isinstance(value, str)]
    results: list[dict | None] = [None] * len(values)
    for (i, _), verdict in zip(texts, guard.classify_batch([text for _, text in texts])):
        results[i] = result_columns(verdict)
    for i, value in enumerate(values):
        if results[i] is None:
            results[i] = result_columns(bad_row_verdict(guard, text_field, value))
    return results
