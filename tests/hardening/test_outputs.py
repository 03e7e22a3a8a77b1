"""Rows 6 and 13 of the hardening issue: --force replaces only what crest-edge made; links named."""

import pytest

from crest_edge import ConversionError
from crest_edge.convert import convert
from crest_edge.devtools.synth import synth


def test_force_does_not_delete_a_directory_of_other_files(tiny_checkpoint, tmp_path):
    victim = tmp_path / "v"
    (victim / "sub").mkdir(parents=True)
    (victim / "notes.txt").write_text("important")
    with pytest.raises(ConversionError, match="not an artifact crest-edge made"):
        convert(tiny_checkpoint, victim, "ct2", "int8", force=True)
    assert (victim / "notes.txt").read_text() == "important" and (victim / "sub").is_dir()


@pytest.mark.parametrize("where", [".", "model.safetensors", "sub/deeper", ".."])
def test_out_never_overlaps_the_source(tiny_checkpoint, copy_of, where):
    source = copy_of(tiny_checkpoint)
    before = {p.name: p.read_bytes() for p in source.iterdir()}
    with pytest.raises(ConversionError, match="overlaps the source"):
        convert(source, source / where, "gguf", "q8_0", force=True)
    assert {p.name: p.read_bytes() for p in source.iterdir()} == before


def test_force_replaces_a_crest_edge_artifact(tiny_checkpoint, tmp_path):
    out = tmp_path / "a.gguf"
    convert(tiny_checkpoint, out, "gguf", "q8_0")
    convert(tiny_checkpoint, out, "gguf", "q4_0", force=True)
    plain = tmp_path / "plain.gguf"
    plain.write_bytes(b"GGUF" + b"\0" * 100)  # a GGUF crest-edge did not write
    with pytest.raises(ConversionError, match="not an artifact crest-edge made"):
        convert(tiny_checkpoint, plain, "gguf", "q8_0", force=True)


def test_synth_force_never_overwrites_a_real_checkpoint(demo_checkpoint, tiny_checkpoint, tmp_path, copy_of):
    real = copy_of(demo_checkpoint)
    weights = (real / "model.safetensors").read_bytes()
    with pytest.raises(ConversionError, match="not a synthesized checkpoint"):
        synth("tiny", real, force=True)
    assert (real / "model.safetensors").read_bytes() == weights
    again = copy_of(tiny_checkpoint)
    synth("tiny", again, seed=1, force=True)  # one synth wrote: replaceable


@pytest.mark.slow  # an ONNX export
def test_a_link_to_outside_the_checkpoint_is_named(tiny_checkpoint, tmp_path, caplog):
    source = tmp_path / "ckpt"
    source.mkdir()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    for path in tiny_checkpoint.iterdir():
        (source / path.name).write_bytes(path.read_bytes())
    (source / "sentencepiece.bpe.model").rename(outside / "sentencepiece.bpe.model")
    (source / "sentencepiece.bpe.model").symlink_to(outside / "sentencepiece.bpe.model")
    with caplog.at_level("WARNING", logger="crest_edge"):
        convert(source, tmp_path / "out", "onnx", "int8")
    assert any("sentencepiece.bpe.model ->" in r.getMessage() and "outside" in r.getMessage() for r in caplog.records)
