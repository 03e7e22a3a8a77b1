"""`trim` writes a consistent smaller checkpoint: the kept pieces in their order, the embedding rows
remapped with them, and no kept piece ever turned into another."""

import json

import numpy as np
import pytest
import sentencepiece as spm

from crest_edge.errors import ConversionError, CrestEdgeError
from crest_edge.formats.checkpoint import open_checkpoint
from crest_edge.tokenizer import SPM_FILE, load_tokenizer
from crest_edge.tokenizer.proto import NORMAL, SentencePieceModel
from crest_edge.trim.build import trim
from crest_edge.trim.check import _row_map, remapped
from crest_edge.trim.record import TRIM_FILE, read_trim_record
from crest_edge.trim.scripts import expand_languages, script_ranges, scripts_of

WORD = "roberta.embeddings.word_embeddings.weight"


def _model(path):
    return SentencePieceModel((path / SPM_FILE).read_bytes())


@pytest.mark.parametrize("name", ["demo-europe", "demo-indic", "tiny-europe"])
def test_pieces_rows_and_config_stay_consistent(name, trimmed, demo_checkpoint, tiny_checkpoint):
    result = trimmed(name)
    source = {"demo": demo_checkpoint, "tiny": tiny_checkpoint}[name.split("-")[0]]
    old, new = _model(source), _model(result.path)
    assert 4 < new.piece_count < old.piece_count
    index = {p: i for i, p in enumerate(old.pieces)}
    kept = [index[p] for p in new.pieces]
    assert kept == sorted(kept) and kept[:3] == [0, 1, 2]  # original order, specials first
    assert new.scores == [old.scores[i] for i in kept]
    assert min(new.scores[3:]) == min(old.scores[3:])  # the <unk> penalty is unchanged
    assert new.charsmap == old.charsmap
    spm.SentencePieceProcessor().LoadFromSerializedProto((result.path / SPM_FILE).read_bytes())

    before, after = open_checkpoint(source), open_checkpoint(result.path)
    assert after.config["vocab_size"] == new.piece_count + 2
    assert {k: v for k, v in after.config.items() if k != "vocab_size"} == {
        k: v for k, v in before.config.items() if k not in ("vocab_size", "crest_edge_synth")
    }
    old_w, new_w = before.tensors(), after.validated_tensors()
    mapping = _row_map(source, result.path)
    assert len(mapping) == new.piece_count + 2 and sorted(mapping.values()) == list(range(len(mapping)))
    for old_id, new_id in mapping.items():
        np.testing.assert_array_equal(new_w[WORD][new_id], old_w[WORD][old_id])
    assert set(old_w) == set(new_w)
    for key in set(old_w) - {WORD}:
        np.testing.assert_array_equal(new_w[key], old_w[key])
    assert result.parameters_after == sum(t.size for t in new_w.values()) < result.parameters_before


@pytest.mark.parametrize("name", ["demo-europe", "demo-indic"])
def test_no_piece_silently_becomes_another(name, trimmed, demo_checkpoint, corpus_texts):
    """Every text whose untrimmed pieces were all kept gets exactly those pieces, renumbered."""
    result = trimmed(name)
    old_tok, new_tok = load_tokenizer(demo_checkpoint), load_tokenizer(result.path)
    mapping = _row_map(demo_checkpoint, result.path)
    all_kept = 0
    for text in corpus_texts:
        expected = remapped(old_tok.encode(text), mapping)
        if expected is not None:
            all_kept += 1
            assert new_tok.encode(text) == expected, text
    assert all_kept > 100


def test_transformers_reads_the_trimmed_tokenizer_the_same_way(trimmed, corpus_texts):
    transformers = pytest.importorskip("transformers")
    path = trimmed("demo-europe").path
    theirs = transformers.XLMRobertaTokenizer.from_pretrained(str(path))
    ours = load_tokenizer(path)
    assert len(theirs) == open_checkpoint(path).config["vocab_size"]
    for text in corpus_texts[::7]:
        assert theirs(text)["input_ids"] == [0, *ours.encode(text), 2], text


def test_script_rule_keeps_every_piece_of_the_served_scripts(trimmed, demo_checkpoint):
    from crest_edge.trim.select import Ranges

    served = Ranges(script_ranges(scripts_of(expand_languages(["europe"]))))
    old, new = _model(demo_checkpoint), _model(trimmed("demo-europe").path)
    want = {p for i, p in enumerate(old.pieces) if old.type_of(i) == NORMAL and all(c in served for c in p if c != "▁")}
    assert want <= set(new.pieces)
    # and nothing else, beyond the specials and the lowest-scored piece
    assert len(set(new.pieces) - want) <= 4
    assert any(not all(c in served for c in p) for p in old.pieces)  # something was cut


def test_record(trimmed):
    result = trimmed("demo-indic")
    record = read_trim_record(result.path)
    assert record == json.loads((result.path / TRIM_FILE).read_text(encoding="utf-8"))
    assert record["languages"] == ["hi", "bn", "ta", "te", "mr", "gu", "kn", "ml"]
    assert set(record["scripts"]) == {
        "Devanagari",
        "Bengali",
        "Tamil",
        "Telugu",
        "Kannada",
        "Malayalam",
        "Gujarati",
    }
    assert record["sources"] == ["script"] and "sentencepiece scores" in record["frequencies"]
    assert record["pieces_kept"] == _model(result.path).piece_count


def test_corpus_source(demo_checkpoint, tmp_path):
    corpus = tmp_path / "app.txt"
    corpus.write_text("How do I bake bread?\nWhere is the station?\n", encoding="utf-8")
    result = trim(demo_checkpoint, tmp_path / "out", corpora=[corpus], keep=50)
    record = result.record
    assert record["languages"] == [] and record["scripts"] == ["Latin"] and record["sources"] == ["corpus", "keep"]
    assert record["corpora"][0]["name"] == "app.txt"
    old_tok, new_tok = load_tokenizer(demo_checkpoint), load_tokenizer(result.path)
    mapping = _row_map(demo_checkpoint, result.path)
    for text in ("How do I bake bread?", "Where is the station?"):
        assert new_tok.encode(text) == remapped(old_tok.encode(text), mapping)
    # corpus pieces + single Latin characters + 50 top pieces + specials: far fewer than the demo's 4000
    assert record["pieces_kept"] < 600


def test_bad_requests_are_refused(demo_checkpoint, tmp_path):
    with pytest.raises(ConversionError, match="--languages or --corpus"):
        trim(demo_checkpoint, tmp_path / "a")
    with pytest.raises(CrestEdgeError, match="unknown language or pack 'xx'"):
        trim(demo_checkpoint, tmp_path / "a", ["xx"])
    with pytest.raises(ConversionError, match="overlaps the source"):
        trim(demo_checkpoint, demo_checkpoint / "sub", ["en"])
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    with pytest.raises(ConversionError, match="exists"):
        trim(demo_checkpoint, other, ["en"], force=False)
    with pytest.raises(ConversionError, match="not a trimmed checkpoint crest-edge made"):
        trim(demo_checkpoint, other, ["en"], force=True)
    assert (other / "keep.txt").read_text() == "mine"
    first = trim(demo_checkpoint, tmp_path / "t", ["en"])
    trim(demo_checkpoint, first.path, ["de"], force=True)  # its own output may be replaced
    assert read_trim_record(first.path)["languages"] == ["de"]


def test_manifest_trim_field_is_optional_and_validated(trimmed):
    from crest_edge.errors import ArtifactError
    from crest_edge.formats.manifest import Manifest

    plain = Manifest("ct2", "int8", ["safe", "unsafe"], 512, "0" * 64, {"crest-edge": "0"})
    assert Manifest.from_json(plain.to_json(), "m").trim is None
    data = json.loads(plain.to_json())
    del data["trim"]  # a manifest written before the field existed
    assert Manifest.from_json(json.dumps(data), "m").trim is None
    data["trim"] = read_trim_record(trimmed("demo-europe").path)
    assert Manifest.from_json(json.dumps(data), "m").trim["languages"][0] == "en"
    data["trim"] = {**data["trim"], "served_ranges": [[5, 1]]}
    with pytest.raises(ArtifactError, match="trim: served_ranges entry"):
        Manifest.from_json(json.dumps(data), "m")
