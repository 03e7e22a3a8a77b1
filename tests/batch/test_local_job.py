"""The local batch job: every format in and out, rows kept whole and in order, bad rows given a
defined result, and a resume after kill -9 that neither duplicates nor loses a row."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from batch_tables import read_table, write_table

from crest_edge import CrestEdgeError, Guard
from crest_edge.batch import ADDED_FIELDS, classify_file
from crest_edge.batch.job import _chunks
from crest_edge.batch.journal import sidecar_path

ROOT = Path(__file__).resolve().parents[2]
FORMATS = ("jsonl", "csv", "parquet")


@pytest.fixture(scope="module")
def guard(demo_checkpoint):
    with Guard.load(demo_checkpoint, device="cpu", threads=1) as guard:
        yield guard


def results_of(row):
    return {name: row[name] for name in ADDED_FIELDS}


@pytest.mark.parametrize("out_format", FORMATS)
@pytest.mark.parametrize("in_format", FORMATS)
def test_every_row_keeps_its_fields_and_gets_the_in_process_verdict(
    guard, corpus_rows, tmp_path, in_format, out_format
):
    rows = corpus_rows[:300]
    source = write_table(tmp_path / f"in.{in_format}", rows)
    summary = classify_file(guard, source, tmp_path / f"out.{out_format}", chunk_rows=1000)
    assert (summary.rows, summary.classified, summary.errors) == (300, 300, 0)
    out = read_table(tmp_path / f"out.{out_format}")
    expected = guard.classify_batch([row["text"] for row in rows])  # one chunk: the same call
    assert [row["crest_row"] for row in out] == [str(i) if out_format == "csv" else i for i in range(300)]
    for row, given, verdict in zip(out, rows, expected):
        assert {key: row[key] for key in given} == given  # CSV cells are strings, and so are these fields
        assert row["crest_label"] == verdict.label
        assert float(row["crest_score"]) == verdict.score
        assert int(row["crest_tokens"]) == verdict.tokens
    assert json.loads(sidecar_path(tmp_path / f"out.{out_format}").read_text())["complete"] is True
    assert not (tmp_path / f"out.{out_format}.parts").exists()


def test_chunk_k_is_always_the_same_rows():
    groups = ([{"n": n} for n in range(start, min(start + 9, 900))] for start in range(0, 900, 9))
    chunks = list(_chunks(groups, 64))
    assert [[r["n"] for r in c] for c in chunks] == [list(range(k, min(k + 64, 900))) for k in range(0, 900, 64)]


def test_bad_rows_get_a_defined_result_and_empty_text_is_classified(guard, tmp_path):
    source = tmp_path / "in.jsonl"
    lines = [{"text": "", "id": 1}, {"text": None, "id": 2}, {"text": 7, "id": 3}, {"id": 4}, {"text": ["a"], "id": 5}]
    source.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    summary = classify_file(guard, source, tmp_path / "out.jsonl")
    assert (summary.rows, summary.errors) == (5, 4)
    out = read_table(tmp_path / "out.jsonl")
    empty = guard.classify("")
    assert (out[0]["crest_label"], out[0]["crest_score"], out[0]["crest_error"]) == (empty.label, empty.score, None)
    for row in out[1:]:  # no string text: blocked (fail closed), nothing classified, the reason given
        assert (row["crest_label"], row["crest_score"], row["crest_tokens"], row["crest_windows"]) == (
            "unsafe",
            1.0,
            0,
            0,
        )
        assert row["crest_error"].startswith("no text: 'text' is")
    assert [row["id"] for row in out] == [1, 2, 3, 4, 5] and "text" not in out[3]


def test_on_error_allow_lets_a_bad_row_through_with_its_error(demo_checkpoint, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": null}\n', encoding="utf-8")
    with Guard.load(demo_checkpoint, on_error="allow") as guard:
        classify_file(guard, source, tmp_path / "out.jsonl")
    (row,) = read_table(tmp_path / "out.jsonl")
    assert (row["crest_label"], row["crest_score"], row["crest_error"]) == (
        "safe",
        0.0,
        "no text: 'text' is missing or null",
    )


def test_the_text_field_is_chosen_and_a_missing_column_refused(guard, tmp_path):
    source = write_table(tmp_path / "in.csv", [{"body": "hello there", "n": "1"}])
    classify_file(guard, source, tmp_path / "out.jsonl", text_field="body")
    assert read_table(tmp_path / "out.jsonl")[0]["crest_tokens"] == guard.classify("hello there").tokens
    with pytest.raises(CrestEdgeError, match="no column 'text' \\(it has body, n\\)"):
        classify_file(guard, source, tmp_path / "other.jsonl")


def test_a_finished_job_rerun_does_nothing_and_a_changed_job_is_refused(guard, demo_checkpoint, corpus_rows, tmp_path):
    source = write_table(tmp_path / "in.jsonl", corpus_rows[:40])
    output = tmp_path / "out.jsonl"
    classify_file(guard, source, output)
    before = output.read_bytes()
    again = classify_file(guard, source, output)
    assert again.already_complete and again.classified == 0 and output.read_bytes() == before
    with Guard.load(demo_checkpoint, threshold=0.7) as stricter:
        with pytest.raises(CrestEdgeError, match="different job \\(threshold: 0.5 then, 0.7 now\\)"):
            classify_file(stricter, source, output)
    with pytest.raises(CrestEdgeError, match="different job \\(chunk_rows"):
        classify_file(guard, source, output, chunk_rows=7)
    write_table(source, corpus_rows[:41])
    with pytest.raises(CrestEdgeError, match="its input changed since"):
        classify_file(guard, source, output)
    foreign = tmp_path / "theirs.jsonl"
    foreign.write_text("{}\n")
    with pytest.raises(CrestEdgeError, match="no theirs.jsonl.crest-edge-batch.json says"):
        classify_file(guard, source, foreign)
    assert foreign.read_text() == "{}\n"


def test_an_input_that_already_has_result_fields_is_refused(guard, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "a"}\n{"text": "b", "crest_score": 0.1}\n', encoding="utf-8")
    with pytest.raises(CrestEdgeError, match="row 1 already has the field 'crest_score'"):
        classify_file(guard, source, tmp_path / "out.jsonl")


def _job(source, output, chunk_rows):
    return [
        sys.executable,
        "-m",
        "crest_edge.cli",
        "classify",
        "--threads",
        "1",
        "--input",
        str(source),
        "--output",
        str(output),
        "--chunk-rows",
        str(chunk_rows),
    ]


def _kill_when_started(command, output, at_least):
    """Start the job, SIGKILL it once its journal records `at_least` rows, and return those rows."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline, rows = time.monotonic() + 240, 0
    try:
        while time.monotonic() < deadline and process.poll() is None:
            try:
                rows = json.loads(sidecar_path(output).read_text())["rows"]
            except (OSError, ValueError, KeyError):
                rows = 0
            if rows >= at_least:
                break
            time.sleep(0.02)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, process.stderr.read().decode()
    return rows


@pytest.mark.slow
@pytest.mark.parametrize("out_format", ["jsonl", "csv", "parquet"])
def test_a_rerun_after_kill_9_continues_without_duplicating_or_losing_a_row(
    demo_checkpoint, corpus_rows, tmp_path, out_format
):
    rows = corpus_rows[:900]
    source = write_table(tmp_path / "in.jsonl", [{**row, "id": f"r{i}"} for i, row in enumerate(rows)])
    output = tmp_path / f"out.{out_format}"
    done = _kill_when_started(_job(source, output, 32), output, at_least=96)
    assert 96 <= done < len(rows), "the job ended before it could be killed mid-run"
    # what a kill in the middle of a write leaves: bytes past the recorded point, a part not recorded
    if out_format == "parquet":
        (tmp_path / f"out.{out_format}.parts" / f"part-{done // 32:06d}.parquet").write_bytes(b"PAR1 torn")
    else:
        with open(output, "ab") as handle:
            handle.write(b'{"crest_row": 99, "text": "torn' if out_format == "jsonl" else b'7,"torn')

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    rerun = subprocess.run(_job(source, output, 32), cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert f"resumed after row {done:,}" in rerun.stderr

    with Guard.load(demo_checkpoint, device="cpu", threads=1) as guard:
        whole = classify_file(guard, source, tmp_path / f"whole.{out_format}", chunk_rows=32)
    assert whole.rows == len(rows)
    resumed, uninterrupted = read_table(output), read_table(tmp_path / f"whole.{out_format}")
    assert len(resumed) == len(rows)
    assert resumed == uninterrupted
    if out_format != "parquet":  # the text formats byte for byte; Parquet row for row
        assert output.read_bytes() == (tmp_path / f"whole.{out_format}").read_bytes()


def test_the_progress_bar_counts_texts_per_second_with_an_eta(guard, corpus_rows, tmp_path, monkeypatch):
    import io

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    source = write_table(tmp_path / "in.jsonl", corpus_rows[:64])
    classify_file(guard, source, tmp_path / "out.jsonl", chunk_rows=16, progress=True)
    drawn = terminal.getvalue()
    assert "64/64" in drawn and "texts/s" in drawn and "<" in drawn  # tqdm's "elapsed<remaining"
