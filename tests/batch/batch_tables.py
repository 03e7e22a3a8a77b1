"""Writing and reading the batch job's tables in tests (a module of its own: every suite has a conftest)."""

import csv
import json

import pytest


def write_table(path, rows):
    """`rows` as JSONL, CSV or Parquet, by `path`'s extension."""
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    elif path.suffix == ".csv":
        with open(path, "w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    else:
        pa, pq = pytest.importorskip("pyarrow"), pytest.importorskip("pyarrow.parquet")
        pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=200)
    return path


def read_table(path):
    """The rows of a JSONL, CSV or Parquet file (or a folder of Parquet / JSON files Ray wrote)."""
    if path.is_dir():
        pa_dataset = pytest.importorskip("pyarrow.dataset")
        fmt = "parquet" if any(p.suffix == ".parquet" for p in path.iterdir()) else "json"
        return pa_dataset.dataset(path, format=fmt).to_table().to_pylist()
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    if path.suffix == ".csv":
        with open(path, encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))
    return pytest.importorskip("pyarrow.parquet").read_table(path).to_pylist()
