"""The local batch job: classify a table file into another, with bounded memory, resumably.

Records are read in order and gathered into chunks of `chunk_rows` rows: chunk k is always rows
k*chunk_rows to (k+1)*chunk_rows - 1, on a fresh run and on a resume alike, and the Ray job cuts its
blocks the same way (crest_edge.ray). Each chunk goes to the model in one `classify_batch` call,
which length-sorts it so padding stays small and gives the verdicts back in input order; the
chunk's rows are then written in input order and the journal records the new resume point.

Why the cut is by rows only: an engine's scores depend, in their last bits or more, on which texts
share a batch (the padding length; ONNX int8's per-batch activation scales move p(unsafe) by up to
0.04). The same chunks give the same batches, so every row's result is the same whether the job ran
at once, was resumed, or ran on Ray. Memory is one chunk's rows plus the reader's and writer's
buffers, whatever the input's size: lower `chunk_rows` for a corpus of very long texts.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from ..errors import CrestEdgeError
from ..version import __version__
from .journal import Journal, input_identity
from .results import ROW_FIELD, classify_values
from .tables import TableReader, check_no_added_fields, discard_parts, open_writer, table_format

DEFAULT_CHUNK_ROWS = 1024


@dataclasses.dataclass(frozen=True)
class BatchSummary:
    output: Path
    rows: int  # rows in the output
    resumed_at: int  # rows already done when this run started (0 for a fresh job)
    classified: int  # rows this run classified
    unsafe: int  # of those, labelled unsafe
    errors: int  # of those, with crest_error set (a bad row, or an engine failure under on_error)
    seconds: float  # this run's wall time
    already_complete: bool = False


def classify_file(
    guard,
    source,
    output,
    *,
    text_field: str = "text",
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    progress: bool = False,
) -> BatchSummary:
    """Classify every row of `source` (JSONL, CSV or Parquet) into `output` (any of the three), each
    output row being the input row's fields with `crest_row` (its 0-based position) and the result
    columns (crest_edge.batch.results). Rerunning it after an interruption continues where the
    output's journal says it stopped; a rerun with another input or options is refused. `progress`
    draws a bar on stderr when it is a terminal."""
    start = time.perf_counter()
    source, output = Path(source), Path(output)
    if not text_field:
        raise CrestEdgeError("--text-field is empty")
    if not isinstance(chunk_rows, int) or chunk_rows < 1:
        raise ValueError(f"chunk_rows must be a positive whole number, got {chunk_rows!r}")
    if output.resolve() == source.resolve():
        raise CrestEdgeError(f"--output {output} is the input itself")
    table_format(output, "--output")
    reader = TableReader(source, text_field)
    journal = Journal.open(output, _job(guard, reader, output, chunk_rows))
    if journal.complete:
        discard_parts(output)  # left behind by a kill just after the merge
        return BatchSummary(output, journal.rows, journal.rows, 0, 0, 0, time.perf_counter() - start, True)

    writer = open_writer(output, journal, reader)
    bar = _progress_bar(reader, journal.rows) if progress else None
    resumed_at = done = journal.rows
    unsafe = errors = 0
    try:
        for chunk in _chunks(reader.records(journal.rows), chunk_rows):
            if reader.columns is None:  # JSONL: each record has fields of its own
                for i, record in enumerate(chunk):
                    check_no_added_fields(f"{source}: row {done + i}", record)
            results = classify_values(guard, text_field, [record.get(text_field) for record in chunk])
            rows = [{ROW_FIELD: done + i, **record, **result} for i, (record, result) in enumerate(zip(chunk, results))]
            journal.record(done + len(rows), writer.write(rows, done))
            done += len(rows)
            unsafe += sum(result["crest_label"] == "unsafe" for result in results)
            errors += sum(result["crest_error"] is not None for result in results)
            if bar is not None:
                bar.update(len(rows))
        writer.finish()
        journal.record(done, journal.position, complete=True)
    finally:
        writer.close()
        if bar is not None:
            bar.close()
    discard_parts(output)
    return BatchSummary(output, done, resumed_at, done - resumed_at, unsafe, errors, time.perf_counter() - start)


def _job(guard, reader: TableReader, output: Path, chunk_rows: int) -> dict:
    """Everything a row's result depends on: a resume must match it."""
    info = guard.info
    return {
        "input": input_identity(reader.path),
        "output_format": table_format(output, "--output"),
        "text_field": reader.text_field,
        "model": {
            "path": str(Path(guard.artifact.path).resolve()),
            "format": guard.artifact.format,
            "engine": info.engine,
            "device": info.device,
            "precision": info.precision,
        },
        "threshold": guard.threshold,
        "long_text": guard.long_text,
        "on_error": guard.on_error,
        "batch_size": guard.batch_size,
        "chunk_rows": chunk_rows,
        "crest_edge": __version__,
    }


def _chunks(groups: Iterator[list[dict]], chunk_rows: int) -> Iterator[list[dict]]:
    chunk = []
    for group in groups:
        for record in group:
            chunk.append(record)
            if len(chunk) == chunk_rows:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def _progress_bar(reader: TableReader, done: int):
    """texts/s and an ETA on stderr; none unless it is a terminal (counting the rows reads the file)."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=reader.estimated_rows(), initial=done, unit=" texts", file=sys.stderr, dynamic_ncols=True)
