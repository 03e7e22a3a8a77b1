"""Reading a request body within limits, and the one-line JSON error every bad request gets."""

from __future__ import annotations

import json

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response


class RequestError(Exception):
    """A request the service refuses: status 400 (unreadable), 413 (too large) or 422 (wrong shape)."""

    def __init__(self, status: int, message: str, param: str | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.param, self.headers = status, message, param, headers or {}


# The error body per endpoint family: OpenAI's `{"error": {message, type, param, code}}` (so its
# clients raise with our message), text-embeddings-inference's `{"error", "error_type"}` for /predict.
_OPENAI_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
    500: "server_error",
    503: "service_unavailable",
}
_TEI_TYPES = {
    400: "validation",
    413: "validation",
    422: "validation",
    401: "unauthorized",
    503: "overloaded",
    500: "backend",
}


def error_response(
    status: int, message: str, *, param: str | None = None, tei: bool = False, headers: dict | None = None
) -> Response:
    message = " ".join(message.split())  # one line, whatever an exception said
    if tei:
        body = {"error": message, "error_type": _TEI_TYPES.get(status, "validation")}
    else:
        body = {
            "error": {
                "message": message,
                "type": _OPENAI_TYPES.get(status, "invalid_request_error"),
                "param": param,
                "code": status,
            }
        }
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return Response(text, status, headers=headers, media_type="application/json")


async def read_json(request: Request, limit: int):
    """The body as JSON, refusing what is too large before reading it where Content-Length says so."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise RequestError(400, "Content-Length is not a number")
        if int(declared) > limit:
            raise RequestError(413, f"the body ({int(declared)} bytes) is over the limit of {limit} bytes")
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise RequestError(413, f"the body is over the limit of {limit} bytes")
            chunks.append(chunk)
    except ClientDisconnect:
        raise RequestError(400, "the client went away before sending the whole body") from None
    try:
        text = b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RequestError(400, f"the body is not valid UTF-8 (byte {exc.start})") from None
    if not text.strip():
        raise RequestError(400, "the body is empty; expected a JSON object")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise RequestError(400, f"malformed JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise RequestError(400, "malformed JSON: nested too deeply") from None


def json_object(body) -> dict:
    if not isinstance(body, dict):
        raise RequestError(422, f"the body must be a JSON object, got {_kind(body)}")
    return body


def text_list(value, field: str, max_inputs: int) -> list[str]:
    """A string or a non-empty list of strings, at most max_inputs of them."""
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        raise RequestError(422, f"'{field}' must be a string or a list of strings, got {_kind(value)}", field)
    return checked_count([_string(v, f"{field}[{i}]") for i, v in enumerate(value)], field, max_inputs)


def checked_count(texts: list, field: str, max_inputs: int) -> list:
    if not texts:
        raise RequestError(422, f"'{field}' is an empty list; give at least one text", field)
    if len(texts) > max_inputs:
        raise RequestError(413, f"{len(texts)} inputs are over the limit of {max_inputs} per request", field)
    return texts


def optional(body: dict, field: str, kind: type, default):
    value = body.get(field, default)
    if value is None:
        return default
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise RequestError(422, f"'{field}' must be a {kind.__name__}, got {_kind(value)}", field)
    return value


def _string(value, where: str) -> str:
    if not isinstance(value, str):
        raise RequestError(422, f"'{where}' must be a string, got {_kind(value)}", where.split("[")[0])
    return value


def _kind(value) -> str:
    return {
        dict: "an object",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        type(None): "null",
        int: "a number",
        float: "a number",
    }.get(type(value), type(value).__name__)
