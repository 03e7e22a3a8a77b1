"""The batch suites' shared pieces: corpus files in every table format, and one real local Ray
cluster per session (2 CPUs, no dashboard, no usage statistics, nothing outside this machine)."""

import csv
import json
import os

import pytest


@pytest.fixture(scope="session")
def corpus_rows():
    """The parity corpus with an id per row: the fields every output row must keep."""
    from crest_edge.data import parity_corpus_path, read_jsonl

    return [{"id": f"p{i:04d}", **row} for i, row in enumerate(read_jsonl(parity_corpus_path()))]


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


@pytest.fixture(scope="session")
def ray_cluster():
    ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'crest-edge[ray]'")
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()
