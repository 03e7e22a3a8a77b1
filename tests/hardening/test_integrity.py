"""Row 2 and row 8 of the hardening issue: damage of the same size, and edited manifests, are caught at
load, by name; `crest-edge verify` checks on demand."""

import json

import pytest
from hardening_helpers import one_line_error, run_cli

from crest_edge import ArtifactError, Guard
from crest_edge.devtools.mutate import Mutation, reseal
from crest_edge.formats import integrity
from crest_edge.formats.artifact import open_artifact
from crest_edge.formats.manifest import MANIFEST_NAME


def weights_file(artifact):
    return artifact if artifact.is_file() else max(artifact.iterdir(), key=lambda p: p.stat().st_size)


def test_every_file_and_the_manifest_carry_a_digest(artifact):
    manifest = open_artifact(artifact).manifest
    record = manifest.integrity
    assert record["algorithm"] == "sha256" and record["manifest"] == integrity.manifest_digest(manifest)
    if artifact.is_dir():
        shipped = {p.name for p in artifact.iterdir()} - {MANIFEST_NAME}
        assert set(record["files"]) == set(manifest.files) == shipped
    else:
        assert list(record["files"]) == [integrity.GGUF_CONTENT]


def test_one_flipped_byte_in_the_weights_is_refused_by_name(artifact, copy_of):
    damaged = copy_of(artifact)
    target = weights_file(damaged)
    size = target.stat().st_size
    Mutation(target.name if damaged.is_dir() else "", "flip", size * 2 // 3, seed=7).apply(damaged)
    assert target.stat().st_size == size  # same size: the old size check could not see it
    with pytest.raises(ArtifactError, match="damaged or replaced") as caught:
        Guard.load(damaged)
    assert target.name in str(caught.value)


def test_verify_command(artifact, copy_of, capsys):
    code, out, _ = run_cli(capsys, "verify", artifact)
    assert code == 0 and out.startswith("ok ") and "sha256 verified" in out
    damaged = copy_of(artifact)
    target = weights_file(damaged)
    Mutation(target.name if damaged.is_dir() else "", "zeros", target.stat().st_size // 2, seed=1).apply(damaged)
    code, out, _ = run_cli(capsys, "verify", damaged)
    assert code == 1 and out.startswith("FAILED") and "damaged or replaced" in out


def test_cached_verification_rereads_a_changed_file(artifact, copy_of, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    copy = copy_of(artifact)
    Guard.load(copy, verify="cached").close()
    assert list((tmp_path / "cache" / "crest-edge" / "verified").iterdir())
    Guard.load(copy, verify="cached").close()  # the recorded verification of the unchanged files
    target = weights_file(copy)
    Mutation(target.name if copy.is_dir() else "", "flip", target.stat().st_size // 3, seed=3).apply(copy)
    with pytest.raises(ArtifactError, match="damaged or replaced"):
        Guard.load(copy, verify="cached")  # the write changed its ctime: read again


def _edit_manifest(directory, change, resealed=False):
    path = directory / MANIFEST_NAME
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data), encoding="utf-8")
    if resealed:
        reseal(directory)


@pytest.mark.parametrize("engine", ["ct2", "onnx"])
def test_an_edited_manifest_is_refused(engine, engine_artifact, copy_of, capsys):
    swapped = copy_of(engine_artifact(engine))
    _edit_manifest(swapped, lambda m: m.update(labels=m["labels"][::-1]))
    code, _, err = run_cli(capsys, "classify", "--model", swapped, "How do I make a bomb?")
    one_line_error(code, err, "manifest was edited")


@pytest.mark.parametrize(
    "change, fragment",
    [
        (lambda m: m.update(labels="safe,unsafe"), "labels is str"),
        (lambda m: m.update(labels=["unsafe", "unsafe"]), "exactly one 'unsafe'"),
        (lambda m: m.update(labels=["safe", "harmful"]), "exactly one 'unsafe'"),
        (lambda m: m.update(max_length=2), "max_length 2"),
        (lambda m: m.update(max_length="512"), "max_length is str"),
        (lambda m: m.update(files={"../../etc/passwd": 3}), "not a plain name"),
        (lambda m: m.update(quantization="int3"), "quantization 'int3'"),
        (lambda m: m.update(model=[]), "model is list"),
    ],
)
def test_manifest_values_are_checked_even_when_resealed(change, fragment, engine_artifact, copy_of, capsys):
    """A consistent but wrong manifest (its digest recomputed) is refused for what it says."""
    edited = copy_of(engine_artifact("onnx"))
    _edit_manifest(edited, change, resealed=True)
    code, _, err = run_cli(capsys, "classify", "--model", edited, "hi")
    one_line_error(code, err, "not a valid crest-edge manifest", fragment)


def test_deeply_nested_manifest_is_a_clear_error(engine_artifact, copy_of, capsys):
    nested = copy_of(engine_artifact("ct2"))
    (nested / MANIFEST_NAME).write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    code, _, err = run_cli(capsys, "classify", "--model", nested, "hi")
    one_line_error(code, err, "not a valid crest-edge manifest")


def test_a_manifest_without_fields_added_later_still_verifies(engine_artifact, copy_of):
    """An artifact sealed by a release that had no `trim` or `selection` field: its manifest lacks those
    keys, and a newer crest-edge must still accept it (an unset optional field is not in the digest)."""
    pytest.importorskip("onnxruntime")
    older = copy_of(engine_artifact("onnx"))
    path = older / MANIFEST_NAME
    data = json.loads(path.read_text(encoding="utf-8"))
    for key in ("trim", "selection", "parity"):
        assert data.pop(key, None) is None
    path.write_text(json.dumps(data), encoding="utf-8")
    assert open_artifact(older, verify="full").manifest.trim is None
    data["trim"] = {"languages": ["en"]}  # but setting one is an edit
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ArtifactError):
        open_artifact(older, verify="full")
