"""Bad input, limits, the bounded queue, the API key and CORS, on the real server."""

import json
import threading
import time

import httpx
import pytest
from serving import GatedEngine, guard_on, metric, serving, wait_until


@pytest.fixture(scope="module")
def server(guard):
    with serving(guard, max_inputs=4, max_body_bytes=4096) as url:
        yield url


def _nested(depth: int) -> bytes:
    return b'{"input": ' + b"[" * depth + b"]" * depth + b"}"


BAD = [
    ("/classify", b'{"input": ', 400, "malformed JSON"),
    ("/classify", b'{"input": "caf\xe9"}', 400, "not valid UTF-8"),
    ("/classify", b"", 400, "empty"),
    ("/classify", _nested(2000), 400, "malformed JSON"),
    ("/classify", b'["a", "b"]', 422, "JSON object"),
    ("/classify", b'{"text": "a"}', 422, "missing 'input'"),
    ("/classify", b'{"input": 5}', 422, "string or a list"),
    ("/classify", b'{"input": null}', 422, "string or a list"),
    ("/classify", b'{"input": ["a", 7]}', 422, "'input[1]' must be a string"),
    ("/classify", b'{"input": []}', 422, "empty list"),
    ("/classify", json.dumps({"input": ["a"] * 5}).encode(), 413, "over the limit of 4"),
    ("/classify", json.dumps({"input": "x" * 5000}).encode(), 413, "over the limit of 4096 bytes"),
    ("/v1/moderations", b'{"input": "a", "model": 3}', 422, "'model' must be a str"),
    ("/v1/moderations", b'{"input": [{"type": "audio"}]}', 422, "input[0]"),
    ("/predict", b'{"inputs": [[1]]}', 422, "must be [string]"),
    ("/predict", b'{"inputs": "a", "raw_scores": "yes"}', 422, "'raw_scores' must be a bool"),
    ("/predict", b'{"inputs": []}', 422, "non-empty"),
]


@pytest.mark.parametrize("path, body, status, says", BAD, ids=[f"{p}-{s}-{w}" for p, _, s, w in BAD])
def test_bad_input_gets_one_line_json(server, path, body, status, says):
    response = httpx.post(server + path, content=body, headers={"content-type": "application/json"})
    assert response.status_code == status
    _one_line_error(response, says, tei=path == "/predict")


def test_body_too_large_without_content_length(server):
    def chunks():
        yield b'{"input": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}'

    response = httpx.post(server + "/classify", content=chunks())  # chunked: no Content-Length to refuse early
    assert response.status_code == 413
    _one_line_error(response, "over the limit of 4096 bytes")


@pytest.mark.parametrize(
    "method, path, status", [("GET", "/classify", 405), ("POST", "/health", 405), ("GET", "/v2/nothing", 404)]
)
def test_wrong_route_gets_json(server, method, path, status):
    response = httpx.request(method, server + path)
    assert response.status_code == status
    _one_line_error(response, "not allowed" if status == 405 else "no such endpoint")


def _one_line_error(response, says: str, tei: bool = False):
    assert response.headers["content-type"] == "application/json"
    assert "\n" not in response.text.strip() and "Traceback" not in response.text
    body = response.json()
    message = body["error"] if tei else body["error"]["message"]
    assert says in message, message


def test_full_queue_answers_503_at_once(guard):
    engine = GatedEngine(guard.engine)
    answers = {}

    def post(name, texts):
        answers[name] = httpx.post(url + "/classify", json={"input": texts}, timeout=60)

    with serving(guard_on(engine, guard), queue=4, max_inputs=4, max_wait_ms=0) as url:
        running = threading.Thread(target=post, args=("running", ["first"]))
        running.start()
        assert engine.entered.wait(30)  # the engine holds "first"
        waiting = threading.Thread(target=post, args=("waiting", ["a", "b", "c"]))
        waiting.start()
        wait_until(lambda: metric(url, "crest_edge_queue_depth") == 4, "4 texts queued")
        started = time.monotonic()
        refused = httpx.post(url + "/classify", json={"input": ["one too many"]}, timeout=10)
        assert time.monotonic() - started < 1.0
        assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
        _one_line_error(refused, "busy")
        engine.gate.set()
        running.join(30)
        waiting.join(30)
    assert answers["running"].status_code == 200 and answers["waiting"].status_code == 200
    assert len(answers["waiting"].json()["results"]) == 3


def test_api_key(guard):
    openai = pytest.importorskip("openai")
    with serving(guard, api_key="s3cret-key") as url:
        for headers in (
            {},
            {"Authorization": "Bearer wrong"},
            {"Authorization": "Basic s3cret-key"},
            {"Authorization": "Bearer s3cret-key-and-more"},
        ):
            response = httpx.post(url + "/classify", json={"input": "a"}, headers=headers)
            assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
            _one_line_error(response, "API key")
        good = {"Authorization": "Bearer s3cret-key"}
        assert httpx.post(url + "/classify", json={"input": "a"}, headers=good).status_code == 200
        assert httpx.get(url + "/info").status_code == 401 and httpx.get(url + "/metrics").status_code == 401
        assert httpx.get(url + "/info", headers=good).status_code == 200
        assert httpx.get(url + "/health").status_code == 200 and httpx.get(url + "/").status_code == 200
        assert openai.OpenAI(base_url=url + "/v1", api_key="s3cret-key").moderations.create(input="a").results
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=url + "/v1", api_key="nope", max_retries=0).moderations.create(input="a")


@pytest.mark.parametrize(
    "host, ok",
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("127.0.0.9", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.20", False),
        ("kiosk.example", False),
    ],
)
def test_non_loopback_bind_needs_a_key(host, ok):
    from crest_edge.errors import CrestEdgeError
    from crest_edge.serve import Settings

    if ok:
        Settings(host=host).check()
    else:
        with pytest.raises(CrestEdgeError, match="--api-key"):
            Settings(host=host).check()
        Settings(host=host, api_key="k").check()
        Settings(host=host, insecure=True).check()


def test_no_cors_unless_asked(guard):
    preflight = {
        "Origin": "http://kiosk.local",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    with serving(guard) as url:
        assert "access-control-allow-origin" not in httpx.options(url + "/classify", headers=preflight).headers
        post = httpx.post(url + "/classify", json={"input": "a"}, headers={"Origin": "http://kiosk.local"})
        assert post.status_code == 200 and "access-control-allow-origin" not in post.headers
    with serving(guard, cors=("http://kiosk.local",), api_key="k") as url:
        allowed = httpx.options(url + "/classify", headers=preflight)  # a preflight carries no credentials
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "http://kiosk.local"
        other = httpx.options(url + "/classify", headers={**preflight, "Origin": "http://elsewhere"})
        assert "access-control-allow-origin" not in other.headers
        post = httpx.post(
            url + "/classify",
            json={"input": "a"},
            headers={"Origin": "http://kiosk.local", "Authorization": "Bearer k"},
        )
        assert post.headers["access-control-allow-origin"] == "http://kiosk.local"
