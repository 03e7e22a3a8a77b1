"""`crest-edge bench` on the tiny shape: the harness runs, reports every field, caches, and refuses a
backend it does not have in one line."""

import json
import os
import subprocess
import sys

import pytest

from crest_edge.benchmark import artifacts as A
from crest_edge.benchmark.worker import corpus_texts, exact_texts
from crest_edge.errors import CrestEdgeError
from crest_edge.registry import ENGINES

WORKLOAD_FIELDS = (
    "batch",
    "length",
    "repeats",
    "median_ms",
    "p95_ms",
    "texts_per_s",
    "tokens_per_s",
    "engine_median_ms",
    "overhead_pct",
    "peak_rss_mb",
    "speedup_vs_fp32",
    "throughput_vs_fp32",
)
CONFIG_FIELDS = ("name", "engine", "device", "precision", "size_mb", "load_s", "peak_rss_mb", "workloads")


def _cli(*args, timeout=240):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.run(
        [sys.executable, "-m", "crest_edge.cli", *args], capture_output=True, text=True, timeout=timeout, env=env
    )


def _has_cuda() -> bool:
    from crest_edge.runtimes import adapter

    def sees_cuda(engine):
        try:
            return "cuda" in adapter(engine).devices()
        except Exception:  # an engine that is missing or cannot start sees no GPU
            return False

    return any(sees_cuda(engine) for engine in ENGINES)


@pytest.mark.slow
def test_bench_tiny_reports_every_field(tmp_path):
    out = tmp_path / "bench.json"
    done = _cli(
        "bench",
        "--shape",
        "tiny",
        "--cache",
        str(tmp_path / "cache"),
        "--formats",
        "ct2:int8",
        "--batch",
        "1,2",
        "--lengths",
        "16,40",
        "--repeat",
        "3",
        "--warmup",
        "1",
        "--peers",
        "torch",
        "--backend",
        "cpu",
        "--json",
        str(out),
        "--markdown",
        str(tmp_path / "bench.md"),
        "--plot",
        str(tmp_path / "bench.png"),
        "--plot-workload",
        "1x16",
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["machine"]["isa"] and report["machine"]["cpu"]
    assert "ctranslate2" in report["versions"] and "torch" in report["versions"]
    assert [c["name"] for c in report["configs"]] == ["torch", "ct2:int8"]
    for config in report["configs"]:
        assert not config.get("error"), config
        assert all(config.get(k) is not None for k in CONFIG_FIELDS), config
        assert config["device"] == "cpu"
        assert [(w["batch"], w["length"]) for w in config["workloads"]] == [(1, 16), (2, 16), (1, 40), (2, 40)]
        for w in config["workloads"]:
            assert all(w.get(k) is not None for k in WORKLOAD_FIELDS), w
            assert w["repeats"] == 3 and w["median_ms"] > 0 and w["p95_ms"] >= w["median_ms"]
    torch_row = report["configs"][0]["workloads"][0]
    assert torch_row["speedup_vs_fp32"] == pytest.approx(1.0)
    assert report["configs"][1]["precision"].startswith("int8")  # what CT2 reports it computes in
    markdown = (tmp_path / "bench.md").read_text(encoding="utf-8")
    assert "## Batch 2 × 40 tokens" in markdown and "transformers fp32 (peer)" in markdown
    assert (tmp_path / "bench.png").stat().st_size > 1000
    # Cached: the source and the artifact are reused, not rebuilt.
    source = A.resolve_source(None, "tiny", 0, tmp_path / "cache", say=pytest.fail)
    path = A.artifact_path(tmp_path / "cache", source, "ct2", "int8")
    before = path.stat().st_mtime_ns
    assert A.ensure_artifact(source, "ct2", "int8", tmp_path / "cache") == path
    assert path.stat().st_mtime_ns == before


@pytest.mark.slow
@pytest.mark.skipif(_has_cuda(), reason="an engine here sees a CUDA device")
def test_cuda_without_gpu_fails_up_front_in_one_line(tmp_path):
    done = _cli("bench", "--backend", "cuda", "--shape", "tiny", "--cache", str(tmp_path / "cache"), timeout=60)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "cuda" in lines[0].lower() and "never falls back" in lines[0], done.stderr
    assert done.stdout == ""
    assert not (tmp_path / "cache").exists()  # nothing was synthesized or converted first


def test_inputs_have_exactly_the_asked_length(tiny_checkpoint):
    from crest_edge.tokenizer import load_tokenizer

    tokenizer = load_tokenizer(tiny_checkpoint)
    corpus = corpus_texts()
    for length in (2, 3, 16, 77, 128, 512):
        texts = exact_texts(tokenizer, corpus, 4, length)
        if length >= 16:
            assert len(set(texts)) == 4  # different real texts, not one repeated
        assert [len(tokenizer.encode(t)) + 2 for t in texts] == [length] * 4


def test_format_and_peer_lists_are_checked():
    assert A.parse_formats("ct2:int8, gguf:Q8_0,ct2:int8") == [("ct2", "int8"), ("gguf", "q8_0")]
    with pytest.raises(CrestEdgeError, match="tflite:int8"):
        A.parse_formats("tflite:int8,ct2")
    assert A.parse_peers("torch,none") == ["torch"]
    with pytest.raises(CrestEdgeError, match="vllm"):
        A.parse_peers("vllm")
    assert "4-bit" in (A.check_quant("ct2", "int4") or "")
