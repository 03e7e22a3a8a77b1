"""crest_edge.ray on a real local Ray cluster (2 CPUs, started once per session): the same results
as in-process classify_batch over the local job's chunks and as the local job itself, no row lost
when an actor is killed mid-job, bad rows given their defined result. The engine is ONNX int8, whose
per-batch activation scales make a score depend most on its batch neighbours: equal here means
the chunks really are the same."""

import os
import signal

import pytest
from batch_tables import read_table, write_table

from crest_edge import Guard
from crest_edge.batch import RESULT_TYPES
from crest_edge.cli import main

pytest.importorskip("ray", reason="Ray is not installed: pip install 'crest-edge[ray]'")


@pytest.fixture(scope="module")
def model(build_artifact):
    return build_artifact("onnx", "int8")


def in_process(model, corpus_rows, chunk_rows):
    """classify_batch over the local job's chunks: rows 0..chunk_rows-1, the next chunk_rows, ..."""
    texts = [row["text"] for row in corpus_rows]
    with Guard.load(model, device="cpu", threads=1) as guard:
        return [v for k in range(0, len(texts), chunk_rows) for v in guard.classify_batch(texts[k : k + chunk_rows])]


def assert_results_equal(rows, corpus_rows, verdicts):
    by_id = {row["id"]: row for row in rows}
    assert len(rows) == len(by_id) == len(corpus_rows)
    for given, verdict in zip(corpus_rows, verdicts):
        row = by_id[given["id"]]
        assert {key: row[key] for key in given} == given
        assert (row["crest_label"], row["crest_score"], row["crest_tokens"], row["crest_windows"]) == (
            verdict.label,
            verdict.score,
            verdict.tokens,
            verdict.windows,
        )
        assert row["crest_error"] is None


@pytest.mark.slow  # about 35 s here: two CLI jobs over the 1,416-row corpus
def test_classify_ray_gives_the_local_jobs_results_on_the_parity_corpus(
    ray_cluster, model, corpus_rows, tmp_path, capsys
):
    source = write_table(tmp_path / "corpus.jsonl", corpus_rows)
    common = ["classify", "--model", str(model), "--input", str(source), "--threads", "1", "--chunk-rows", "100"]
    assert main([*common, "--output", str(tmp_path / "ray.parquet"), "--ray"]) == 0, capsys.readouterr().err
    assert main([*common, "--output", str(tmp_path / "local.jsonl")]) == 0, capsys.readouterr().err
    ray_rows, local_rows = read_table(tmp_path / "ray.parquet"), read_table(tmp_path / "local.jsonl")
    assert_results_equal(ray_rows, corpus_rows, in_process(model, corpus_rows, 100))
    assert [row["id"] for row in ray_rows] == [row["id"] for row in corpus_rows]  # in order, files by name
    assert ray_rows == [{k: v for k, v in row.items() if k != "crest_row"} for row in local_rows]


@pytest.mark.slow  # 18-41 s here: the actor is started twice (and loads the model twice)
def test_an_actor_killed_mid_job_loses_no_row(ray_cluster, model, corpus_rows, tmp_path):
    from crest_edge.ray import Classifier, classify_dataset

    marker = tmp_path / "killed"

    class DiesOnItsSecondBatch(Classifier):  # defined here, so Ray ships it by value
        calls = 0

        def __call__(self, batch):
            self.calls += 1
            if self.calls == 2 and not marker.exists():
                marker.write_text(str(os.getpid()))
                os.kill(os.getpid(), signal.SIGKILL)
            return super().__call__(batch)

    dataset = ray_cluster.data.from_items(corpus_rows)
    classified = classify_dataset(
        dataset, model, classifier=DiesOnItsSecondBatch, chunk_rows=200, threads=1, text_field="text"
    )
    rows = classified.take_all()
    assert marker.exists(), "no actor was killed"
    assert_results_equal(rows, corpus_rows, in_process(model, corpus_rows, 200))


def test_bad_rows_get_their_defined_result_not_a_failed_job(ray_cluster, model):
    from crest_edge.ray import classify_dataset

    items = [{"id": 1, "text": "hello"}, {"id": 2, "text": ""}, {"id": 3, "text": None}, {"id": 4, "text": 7}]
    dataset = ray_cluster.data.from_items(items, override_num_blocks=1)  # one block may mix types
    rows = classify_dataset(dataset, model, threads=1).take_all()
    with Guard.load(model, device="cpu", threads=1) as guard:
        hello, empty = guard.classify_batch(["hello", ""])
    assert [row["id"] for row in rows] == [1, 2, 3, 4]
    assert set(RESULT_TYPES) <= set(rows[0])
    assert (rows[0]["crest_score"], rows[1]["crest_score"]) == (hello.score, empty.score)
    assert rows[1]["crest_error"] is None
    assert [(r["crest_label"], r["crest_score"], r["crest_tokens"]) for r in rows[2:]] == [("unsafe", 1.0, 0)] * 2
    assert rows[2]["crest_error"] == "no text: 'text' is missing or null"
    assert rows[3]["crest_error"] == "no text: 'text' is int, not a string"


# Whole-corpus and engine sweeps: the full run (make test) keeps them; make test-fast stays under a minute.
pytestmark = pytest.mark.slow
