"""The batch suites' shared pieces: corpus files in every table format, and one real local Ray
cluster per session (2 CPUs, no dashboard, no usage statistics, nothing outside this machine)."""

import os

import pytest


@pytest.fixture(scope="session")
def corpus_rows():
    """The parity corpus with an id per row: the fields every output row must keep."""
    from crest_edge.data import parity_corpus_path, read_jsonl

    return [{"id": f"p{i:04d}", **row} for i, row in enumerate(read_jsonl(parity_corpus_path()))]


@pytest.fixture(scope="session")
def ray_cluster():
    ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'crest-edge[ray]'")
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()
