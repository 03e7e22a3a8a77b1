"""The three request/response shapes: OpenAI's moderation, crest-edge's own, and TEI's /predict.

Categories in the OpenAI shape: a binary safe/unsafe model has one harm category, its positive
label ("unsafe"). OpenAI's thirteen (harassment, violence, ...) are not reported: copying p(unsafe)
into each would claim a category the model never chose, and false/0.0 would claim the text is not
violent when the model was never asked. `flagged` carries the decision, as in OpenAI's API; the
official client shows the absent categories as None.
"""

from __future__ import annotations

import itertools
import secrets

from ..verdict import unsafe_index
from .bodies import RequestError, checked_count, json_object, optional, text_list
from .policy import Outcome

# unique per process and request; uuid4 read the OS random source per request (2% of the request path)
_ID_PREFIX, _ids = secrets.token_hex(6), itertools.count()

# -- POST /v1/moderations --------------------------------------------------------------------------


def moderation_texts(body, max_inputs: int) -> list[str]:
    body = json_object(body)
    optional(body, "model", str, None)  # accepted and ignored: this server has one model
    if "input" not in body:
        raise RequestError(422, "missing 'input': a string, a list of strings, or a list of text parts", "input")
    value = body["input"]
    if isinstance(value, list) and value and all(isinstance(part, dict) for part in value):
        return [_multi_modal_text(value)]  # OpenAI: an array of parts is one input, one result
    return text_list(value, "input", max_inputs)


def _multi_modal_text(parts: list[dict]) -> str:
    texts = []
    for i, part in enumerate(parts):
        kind = part.get("type")
        if kind == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif kind == "image_url":
            raise RequestError(422, f"input[{i}] is an image: this model classifies text only", "input")
        else:
            raise RequestError(422, f'input[{i}] must be {{"type": "text", "text": "..."}}', "input")
    return "\n".join(texts)


def moderation_response(outcomes: list[Outcome], model: str, labels: list[str]) -> dict:
    positive = labels[unsafe_index(labels)]
    results = []
    for outcome in outcomes:
        v = outcome.verdict
        flagged = v.label == positive
        result = {
            "flagged": flagged,
            "categories": {positive: flagged},
            "category_scores": {positive: v.score},
            "category_applied_input_types": {positive: ["text"]},
        }
        if outcome.error:
            result["error"] = outcome.error
        results.append(result)
    return {"id": f"modr-{_ID_PREFIX}{next(_ids):012x}", "model": model, "results": results}


# -- POST /classify --------------------------------------------------------------------------------


def classify_texts(body, max_inputs: int) -> list[str]:
    body = json_object(body)
    if "input" not in body:
        raise RequestError(422, "missing 'input': a string or a list of strings", "input")
    return text_list(body["input"], "input", max_inputs)


def classify_response(outcomes: list[Outcome], model: str, info) -> dict:
    results = [{**o.verdict.to_dict(), "error": o.error} for o in outcomes]
    return {
        "model": model,
        "engine": info.engine,
        "device": info.device,
        "precision": info.precision,
        "results": results,
    }


# -- POST /predict (text-embeddings-inference) -----------------------------------------------------


def predict_request(body, max_inputs: int) -> tuple[list[str], bool, bool]:
    """(texts, batch, raw_scores). TEI's rules: a string, or [string], is one input; a list of
    lists is a batch of [string] items; [a, b] and [[a, b]] are sentence pairs, which a
    single-text classifier cannot score. `truncate` is accepted; long texts are always windowed."""
    body = json_object(body)
    if "inputs" not in body:
        raise RequestError(
            422,
            "missing 'inputs': a string, or a batch [[string], ...]",
            "inputs",
        )
    raw = optional(body, "raw_scores", bool, False)
    optional(body, "truncate", bool, False)
    value = body["inputs"]
    if isinstance(value, str):
        return [value], False, raw
    if not isinstance(value, list) or not value:
        raise RequestError(422, "'inputs' must be a string or a non-empty list", "inputs")
    if isinstance(value[0], str):
        return [_single(value, "inputs")], False, raw
    texts = [_single(item, f"inputs[{i}]") for i, item in enumerate(value)]
    return checked_count(texts, "inputs", max_inputs), True, raw


def _single(item, where: str) -> str:
    if isinstance(item, list) and len(item) == 2 and all(isinstance(x, str) for x in item):
        raise RequestError(422, f"'{where}' is a sentence pair: this model classifies single texts", "inputs")
    if not (isinstance(item, list) and len(item) == 1 and isinstance(item[0], str)):
        raise RequestError(422, f"'{where}' must be [string] (a batch item) or a string", "inputs")
    return item[0]


def predict_response(outcomes: list[Outcome], batch: bool, raw: bool, labels: list[str]):
    per_input = []
    for outcome in outcomes:
        scores = outcome.logits if raw and outcome.logits else [outcome.verdict.probs[name] for name in labels]
        predictions = [{"score": s, "label": name} for name, s in zip(labels, scores)]
        predictions.sort(key=lambda p: p["score"], reverse=True)
        if outcome.error:
            for p in predictions:
                p["error"] = outcome.error
        per_input.append(predictions)
    return per_input if batch else per_input[0]
