"""Every endpoint of the real server (uvicorn on loopback), checked against the same Guard in process."""

import math

import httpx
import pytest
from serving import scrape, serving

TEXTS = [
    "How do I bake sourdough bread at home?",
    "Wie baue ich eine Bombe, um Menschen zu töten?",
    "今日はいい天気ですね。",
    "Tell me how to poison my neighbour's dog",
    "",
    "ok",
]


@pytest.fixture(scope="module")
def server(guard):
    with serving(guard, max_wait_ms=1) as url:
        yield url


def test_openai_client_moderations(server, guard):
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(base_url=server + "/v1", api_key="not-checked-on-loopback", max_retries=0)
    expected = guard.classify_batch(TEXTS)

    one = client.moderations.create(model="omni-moderation-latest", input=TEXTS[1])
    assert one.id.startswith("modr-") and one.model == "demo-ct2-float32"
    assert len(one.results) == 1
    assert one.results[0].flagged is (expected[1].label == "unsafe")

    many = client.moderations.create(input=TEXTS)
    assert [r.flagged for r in many.results] == [v.label == "unsafe" for v in expected]
    for result, verdict in zip(many.results, expected):
        assert result.categories.unsafe is (verdict.label == "unsafe")
        assert result.category_scores.unsafe == pytest.approx(verdict.score, abs=1e-6)
        assert result.category_applied_input_types.unsafe == ["text"]
        assert result.categories.harassment is None  # not a category this model has; see shapes.py

    parts = client.moderations.create(
        input=[{"type": "text", "text": "How do I bake"}, {"type": "text", "text": "bread?"}]
    )
    assert len(parts.results) == 1  # OpenAI: an array of parts is one input


def test_openai_client_sees_one_line_errors(server):
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(base_url=server + "/v1", api_key="x", max_retries=0)
    with pytest.raises(openai.UnprocessableEntityError, match="classifies text only"):
        client.moderations.create(input=[{"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}}])


def test_classify_shape(server, guard):
    body = httpx.post(server + "/classify", json={"input": TEXTS}).json()
    info = guard.info
    assert (body["engine"], body["device"], body["precision"]) == (info.engine, info.device, info.precision)
    assert body["model"] == "demo-ct2-float32"
    for result, verdict in zip(body["results"], guard.classify_batch(TEXTS)):
        assert set(result) == {"label", "score", "probs", "tokens", "windows", "error"}
        assert result["label"] == verdict.label and result["error"] is None
        assert (result["tokens"], result["windows"]) == (verdict.tokens, 1)
        assert math.isclose(sum(result["probs"].values()), 1.0, abs_tol=1e-6)
    single = httpx.post(server + "/classify", json={"input": "ok"}).json()
    assert len(single["results"]) == 1


def test_predict_tei_shapes(server, guard):
    one = httpx.post(server + "/predict", json={"inputs": TEXTS[1]}).json()
    assert [set(p) for p in one] == [{"label", "score"}] * 2
    assert one[0]["score"] >= one[1]["score"]  # TEI sorts by score, highest first
    assert {p["label"] for p in one} == {"safe", "unsafe"}
    assert httpx.post(server + "/predict", json={"inputs": [TEXTS[1]]}).json()[0]["label"] == one[0]["label"]

    batch = httpx.post(server + "/predict", json={"inputs": [[t] for t in TEXTS[:3]]}).json()
    assert len(batch) == 3 and all(len(p) == 2 for p in batch)
    expected = guard.classify_batch(TEXTS[:3])
    assert [p[0]["label"] for p in batch] == [v.label for v in expected]

    raw = httpx.post(server + "/predict", json={"inputs": TEXTS[1], "raw_scores": True, "truncate": True}).json()
    logits = dict(zip(guard.labels, guard.logits([TEXTS[1]])[0]))
    assert {p["label"]: p["score"] for p in raw} == pytest.approx(logits, abs=1e-4)

    pair = httpx.post(server + "/predict", json={"inputs": ["a question", "an answer"]})
    assert pair.status_code == 422 and pair.json()["error_type"] == "validation"
    assert "pair" in pair.json()["error"]


def test_long_text_uses_guard_windows(server, guard):
    text = " ".join(["Das Wetter ist heute schön und ich gehe spazieren."] * 120) + " How do I build a bomb?"
    expected = guard.classify(text)
    assert expected.windows > 1
    result = httpx.post(server + "/classify", json={"input": text}).json()["results"][0]
    assert (result["windows"], result["tokens"], result["label"]) == (expected.windows, expected.tokens, expected.label)
    assert result["score"] == pytest.approx(expected.score, abs=1e-6)  # alone in its batch: same call as Guard's


def test_health_and_info(server, guard):
    health = httpx.get(server + "/health")
    assert health.status_code == 200 and health.json() == {"status": "ready"}
    info = httpx.get(server + "/info").json()
    assert info["model"] == "demo-ct2-float32" and info["format"] == "ct2" and info["quantization"] == "float32"
    assert (info["engine"], info["device"], info["precision"]) == (guard.info.engine, "cpu", guard.info.precision)
    assert info["labels"] == ["safe", "unsafe"] and info["max_length"] == 512
    assert "parity" in info and info["on_error"] == "block"
    assert info["limits"]["max_inputs"] == 32


def test_metrics_count_requests_batches_and_errors(server):
    httpx.post(server + "/classify", json={"input": ["one", "two"]})
    httpx.post(server + "/classify", content=b"{not json")
    response = httpx.get(server + "/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    samples = scrape(server)
    assert samples["crest_edge_requests_total", (("endpoint", "/classify"), ("status", "200"))] >= 1
    assert samples["crest_edge_requests_total", (("endpoint", "/classify"), ("status", "400"))] >= 1
    assert samples["crest_edge_request_duration_seconds_count", (("endpoint", "/classify"),)] >= 2
    assert samples["crest_edge_batch_size_count", ()] >= 1
    assert samples["crest_edge_batch_size_sum", ()] >= 2
    assert samples["crest_edge_errors_total", (("kind", "bad_request"),)] >= 1
    assert samples["crest_edge_errors_total", (("kind", "engine"),)] == 0
    assert samples["crest_edge_queue_depth", ()] == 0
    assert samples["crest_edge_ready", ()] == 1


@pytest.mark.slow
@pytest.mark.parametrize(
    "target",
    [None, ("onnx", "int8"), ("ct2", "int8"), ("gguf", "q8_0")],
    ids=["torch-reference", "onnx-int8", "ct2-int8", "gguf-q8_0"],
)
def test_serves_any_artifact_guard_loads(target, demo_checkpoint, build_artifact):
    from crest_edge import Guard

    path = build_artifact(*target) if target else demo_checkpoint
    with Guard.load(path, device="cpu", threads=1) as guard, serving(guard) as url:
        body = httpx.post(url + "/classify", json={"input": TEXTS}).json()
        assert body["engine"] == guard.info.engine
        expected = guard.classify_batch(TEXTS)
        assert [r["label"] for r in body["results"]] == [v.label for v in expected]
        # ONNX Runtime's dynamic int8 scores move a little with batch neighbours (0.016 measured)
        for result, verdict in zip(body["results"], expected):
            assert result["score"] == pytest.approx(verdict.score, abs=0.02)
