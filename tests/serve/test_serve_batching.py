"""Micro-batching: concurrent requests share engine calls within the budget, sorted by length, each
answered with exactly the verdict it gets alone (CT2 float32: a batch-invariant engine)."""

import asyncio
import random

import httpx
import pytest
from serving import RecordingEngine, guard_on, metric, serving


@pytest.fixture(scope="module")
def texts():
    from crest_edge.data import parity_corpus_path, read_jsonl

    rows = [row["text"] for row in read_jsonl(parity_corpus_path())]
    picked = random.Random(15).sample(rows, 40)
    return picked + [" ".join(rows[:60]), "", "ok"]  # a long one (windows), the empty text, a short one


async def _post_all(url, bodies, path="/classify"):
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        responses = await asyncio.gather(*(client.post(path, json=body) for body in bodies))
    assert [r.status_code for r in responses] == [200] * len(bodies)
    return [r.json() for r in responses]


def test_concurrent_requests_share_engine_calls_sorted_by_length(guard, texts):
    engine = RecordingEngine(guard.engine)
    chosen = texts[:12]
    with serving(guard_on(engine, guard), max_wait_ms=500) as url:
        bodies = asyncio.run(_post_all(url, [{"input": t} for t in chosen]))
    rows = sum(v.windows for v in guard.classify_batch(chosen))  # a long text is several windows
    assert sum(len(call) for call in engine.calls) == rows
    assert len(engine.calls) <= 3, engine.calls  # 12 requests in at most 3 engine calls
    assert all(call == sorted(call) for call in engine.calls)
    for body, text in zip(bodies, chosen):
        assert body["results"][0]["tokens"] == len(guard.token_ids(text))


def test_batches_stay_within_the_token_budget(guard, texts):
    short = [t for t in texts if len(guard.token_ids(t)) <= 64][:20]  # a windowed text is one call alone
    engine = RecordingEngine(guard.engine)
    with serving(guard_on(engine, guard), max_wait_ms=200, max_batch_tokens=128) as url:
        asyncio.run(_post_all(url, [{"input": t} for t in short]))
    assert sum(len(call) for call in engine.calls) == len(short)
    assert max(len(call) for call in engine.calls) > 1
    for call in engine.calls:
        assert len(call) == 1 or len(call) * max(call) <= 128, call


def test_verdict_does_not_depend_on_batch_neighbours(guard, texts):
    alone = [guard.classify(t) for t in texts]
    assert max(v.windows for v in alone) > 1
    order = list(range(len(texts)))
    random.Random(7).shuffle(order)
    groups, sizes = [], iter([1, 2, 3, 4] * len(texts))
    while order:  # requests of 1 to 4 texts, in shuffled order
        n = next(sizes)
        groups.append(order[:n])
        order = order[n:]
    with serving(guard, max_wait_ms=100) as url:
        bodies = asyncio.run(_post_all(url, [{"input": [texts[i] for i in g]} for g in groups]))
        texts_run, calls = metric(url, "crest_edge_batch_size_sum"), metric(url, "crest_edge_batch_size_count")
    served = {}
    for group, body in zip(groups, bodies):
        assert len(body["results"]) == len(group)  # answered in the request's own order
        served.update(zip(group, body["results"]))
    assert sorted(served) == list(range(len(texts)))
    for i, verdict in enumerate(alone):
        assert served[i]["label"] == verdict.label
        assert served[i]["score"] == pytest.approx(verdict.score, abs=1e-6)
        assert (served[i]["tokens"], served[i]["windows"]) == (verdict.tokens, verdict.windows)
    assert texts_run > calls  # texts did share engine calls


def test_all_three_shapes_batch_together(guard):
    engine = RecordingEngine(guard.engine)
    with serving(guard_on(engine, guard), max_wait_ms=500) as url:

        async def mixed():
            async with httpx.AsyncClient(base_url=url, timeout=60) as client:
                return await asyncio.gather(
                    client.post("/classify", json={"input": "one"}),
                    client.post("/v1/moderations", json={"input": "two"}),
                    client.post("/predict", json={"inputs": "three"}),
                )

        responses = asyncio.run(mixed())
    assert [r.status_code for r in responses] == [200] * 3
    assert len(engine.calls) == 1 and len(engine.calls[0]) == 3
