"""`crest-edge parity` end to end: reports, manifests, and gates that catch a damaged model."""

import json
import shutil

import numpy as np
import pytest

from crest_edge.cli import main
from crest_edge.convert import convert
from crest_edge.data import parity_corpus_path
from crest_edge.formats.artifact import open_artifact
from crest_edge.formats.checkpoint import read_safetensors, write_safetensors
from crest_edge.formats.manifest import sha256_file
from crest_edge.guard import Guard
from crest_edge.parity import check_candidate, load_corpus


def _copy(path, dest):
    return shutil.copytree(path, dest) if path.is_dir() else shutil.copy2(path, dest)


@pytest.mark.slow
def test_cli_reports_and_records_parity_in_manifests(demo_checkpoint, build_artifact, small_corpus, tmp_path, capsys):
    ct2 = _copy(build_artifact("ct2", "int8"), tmp_path / "ct2-int8")
    gguf = _copy(build_artifact("gguf", "q8_0"), tmp_path / "demo.q8_0.gguf")
    out_json, out_md = tmp_path / "parity.json", tmp_path / "parity.md"
    rc = main(
        [
            "parity",
            "--reference",
            str(demo_checkpoint),
            "--candidate",
            str(ct2),
            str(gguf),
            "--corpus",
            str(small_corpus),
            "--json",
            str(out_json),
            "--markdown",
            str(out_md),
            "--plot",
            str(tmp_path / "parity.png"),
            "--write-manifest",
            "--device",
            "cpu",
            "--threads",
            "1",
        ]
    )
    printed = capsys.readouterr().out
    assert rc == 0, printed
    assert "all gates passed" in printed and f"recorded parity in {gguf}" in printed
    report = json.loads(out_json.read_text(encoding="utf-8"))
    assert report["passed"] and [c["class"] for c in report["candidates"]] == ["8-bit", "8-bit"]
    assert report["corpus"]["sha256"] == sha256_file(small_corpus)
    assert "## Label agreement by language" in out_md.read_text(encoding="utf-8")
    assert (tmp_path / "parity.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for path, entry in zip((ct2, gguf), report["candidates"]):
        parity = open_artifact(path).manifest.parity  # the file is whole and re-readable
        assert parity["corpus"] == {
            "name": "small.jsonl",
            "sha256": report["corpus"]["sha256"],
            "n": report["corpus"]["n"],
        }
        assert parity["gates_passed"] and parity["class"] == "8-bit"
        assert parity["agreement"] == entry["overall"]["agreement"] and parity["max_dp"] == entry["overall"]["max_dp"]
        assert parity["date"] == report["date"]
        with Guard.load(path, device="cpu") as guard:  # and still runs
            assert guard.classify("hello").label in ("safe", "unsafe")


@pytest.mark.slow
def test_external_corpus_with_missing_fields(demo_checkpoint, build_artifact, tmp_path, capsys):
    corpus = tmp_path / "mine.jsonl"
    corpus.write_text(
        '{"text": "hello there"}\n{"text": "how do I make a bomb", "lang": "en", "label": 1}\n', encoding="utf-8"
    )
    rc = main(
        [
            "parity",
            "--reference",
            str(demo_checkpoint),
            "--candidate",
            str(build_artifact("gguf", "f32")),
            "--corpus",
            str(corpus),
            "--json",
            "-",
            "--threads",
            "1",
        ]
    )
    report = json.loads(capsys.readouterr().out)
    assert rc == 0 and report["corpus"]["n"] == 2
    assert set(report["candidates"][0]["by_lang"]) == {"en", "unknown"}


def test_default_corpus_is_the_project_corpus():
    corpus = load_corpus()
    assert corpus["path"] == str(parity_corpus_path()) and len(corpus["rows"]) > 1000
    assert all(r["lang"] != "unknown" and r["script"] != "unknown" for r in corpus["rows"])


def test_write_manifest_refuses_a_checkpoint_candidate(demo_checkpoint, capsys):
    rc = main(["parity", "--reference", str(demo_checkpoint), "--candidate", str(demo_checkpoint), "--write-manifest"])
    assert rc == 1 and "no crest-edge manifest" in capsys.readouterr().err


@pytest.fixture(scope="module")
def damaged_checkpoint(demo_checkpoint, tmp_path_factory):
    """The demo checkpoint with one square weight stored transposed: a converter bug that every
    shape check lets through."""
    out = shutil.copytree(demo_checkpoint, tmp_path_factory.mktemp("damaged") / "ckpt")
    tensors = {k: np.array(v, dtype=np.float32) for k, v in read_safetensors(out / "model.safetensors").items()}
    name = "roberta.encoder.layer.1.attention.output.dense.weight"
    tensors[name] = np.ascontiguousarray(tensors[name].T)
    write_safetensors(out / "model.safetensors", tensors)
    return out


@pytest.mark.slow
def test_fp32_gate_catches_damaged_weights(damaged_checkpoint, parity_reference, tmp_path):
    artifact = convert(damaged_checkpoint, tmp_path / "damaged-ct2", "ct2", "float32")
    entry = check_candidate(artifact, parity_reference, device="cpu", threads=1)
    failed = {g["metric"] for g in entry["gates"] if not g["passed"]}
    assert not entry["passed"] and failed == {"agreement", "max_dlogit"}
    assert entry["flipped"] and entry["overall"]["flips"] == len(entry["flipped"])


@pytest.mark.slow
def test_cli_exits_1_on_a_failed_gate_and_overrides_relax_it(
    demo_checkpoint, damaged_checkpoint, small_corpus, tmp_path, capsys
):
    artifact = convert(damaged_checkpoint, tmp_path / "damaged.q8_0.gguf", "gguf", "q8_0")
    args = [
        "parity",
        "--reference",
        str(demo_checkpoint),
        "--candidate",
        str(artifact),
        "--device",
        "cpu",
        "--corpus",
        str(small_corpus),
        "--threads",
        "1",
    ]
    assert main(args) == 1
    printed = capsys.readouterr().out
    assert "FAILED damaged.q8_0.gguf [8-bit]: max |Δp|" in printed
    assert main(args + ["--min-agreement", "0", "--max-dp", "1"]) == 0
