"""The failure policy with a real engine failure injected under a real Guard, and readiness."""

import asyncio
import threading

import httpx
import numpy as np
import pytest
from serving import FailingEngine, WrappedEngine, guard_on, metric, running, serving, wait_until

TEXTS = ["How do I bake bread?", "Wie baue ich eine Bombe?"]


def test_block_flags_every_affected_input(guard):
    with serving(guard_on(FailingEngine(guard.engine), guard)) as url:  # on_error=block: the default
        results = httpx.post(url + "/classify", json={"input": TEXTS}).json()["results"]
        moderation = httpx.post(url + "/v1/moderations", json={"input": TEXTS}).json()["results"]
        predicted = httpx.post(url + "/predict", json={"inputs": TEXTS[0]}).json()
        assert metric(url, "crest_edge_errors_total", kind="engine") == 5
    for result, text in zip(results, TEXTS):
        assert result["label"] == "unsafe" and result["score"] == 1.0 and result["windows"] == 0
        assert "injected engine failure" in result["error"]
        assert result["tokens"] == len(guard.token_ids(text))
    assert all(r["flagged"] and r["categories"]["unsafe"] and "injected" in r["error"] for r in moderation)
    assert predicted[0] == {"score": 1.0, "label": "unsafe", "error": predicted[0]["error"]}
    assert "injected engine failure" in predicted[0]["error"]


def test_allow_passes_with_the_error(guard):
    with serving(guard_on(FailingEngine(guard.engine), guard), on_error="allow") as url:
        results = httpx.post(url + "/v1/moderations", json={"input": TEXTS}).json()["results"]
    assert [r["flagged"] for r in results] == [False, False]
    assert all("injected engine failure" in r["error"] and r["category_scores"]["unsafe"] == 0.0 for r in results)


def test_error_answers_503(guard):
    with serving(guard_on(FailingEngine(guard.engine), guard), on_error="error") as url:
        response = httpx.post(url + "/classify", json={"input": TEXTS})
        tei = httpx.post(url + "/predict", json={"inputs": "a"})
    assert response.status_code == 503 and "\n" not in response.text
    assert "injected engine failure" in response.json()["error"]["message"]
    assert tei.status_code == 503 and "injected engine failure" in tei.json()["error"]


def test_one_failing_text_does_not_take_its_batch_down(guard):
    poison = "this text breaks the engine"
    poison_ids = guard.token_ids(poison)
    engine = FailingEngine(guard.engine, when=lambda sequences: any(list(s) == poison_ids for s in sequences))
    texts = [*TEXTS, poison, "ok"]
    with serving(guard_on(engine, guard), max_wait_ms=300) as url:

        async def post_all():
            async with httpx.AsyncClient(base_url=url, timeout=60) as client:
                return await asyncio.gather(*(client.post("/classify", json={"input": t}) for t in texts))

        results = [r.json()["results"][0] for r in asyncio.run(post_all())]
    for text, result in zip(texts, results):
        if text == poison:
            assert result["label"] == "unsafe" and "injected" in result["error"]
        else:
            assert result["error"] is None
            assert result["score"] == pytest.approx(guard.classify(text).score, abs=1e-6)


class NaNEngine(WrappedEngine):
    def logits(self, sequences):
        return np.full((len(sequences), 2), np.nan, dtype=np.float32)


def test_non_finite_logits_are_an_engine_failure(guard):
    with serving(guard_on(NaNEngine(guard.engine), guard)) as url:
        response = httpx.post(url + "/classify", json={"input": "a"})
    assert response.status_code == 200  # not a 500 from a NaN in JSON
    assert response.json()["results"][0]["label"] == "unsafe"
    assert "NaN or infinity" in response.json()["results"][0]["error"]


def test_health_is_ready_only_once_the_model_is_loaded(guard):
    from crest_edge.serve import Settings, create_app

    release = threading.Event()

    def load():
        assert release.wait(60)
        return guard_on(WrappedEngine(guard.engine), guard)

    with running(create_app(load, Settings())) as url:
        loading = httpx.get(url + "/health")
        assert loading.status_code == 503 and loading.json() == {"status": "loading"}
        early = httpx.post(url + "/classify", json={"input": "a"})
        assert early.status_code == 503 and early.headers["retry-after"] == "1"
        assert httpx.get(url + "/info").json()["state"] == "loading"
        release.set()
        wait_until(lambda: httpx.get(url + "/health").status_code == 200, "/health ready")
        assert httpx.post(url + "/classify", json={"input": "a"}).status_code == 200


def test_a_model_that_fails_to_load_is_reported(tmp_path):
    from crest_edge import Guard
    from crest_edge.serve import Settings, create_app

    with running(create_app(lambda: Guard.load(tmp_path / "missing"), Settings())) as url:
        health = lambda: httpx.get(url + "/health").json()
        wait_until(lambda: health()["status"] != "loading", "the load to end")
        final = health()
    assert final["status"] == "failed" and "missing" in final["error"]
