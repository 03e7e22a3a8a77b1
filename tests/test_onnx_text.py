"""`convert --to onnx --with-tokenizer --ort` on the demo: the string-input graph's ids equal
crest-edge's tokenizer (every parity corpus text; the tokenizer test strings except the named cases),
its logits equal model.onnx's, long text is cut at the head, and each `.ort` gives the same logits."""

from __future__ import annotations

import collections
import unicodedata

import numpy as np
import pytest

from crest_edge.formats import onnx_text
from crest_edge.tokenizer import load_tokenizer
from crest_edge.tokenizer.graphemes import grapheme_clusters
from crest_edge.windows import fit

pytest.importorskip("onnxruntime_extensions", reason="pip install 'crest-edge[mobile]'")
pytest.importorskip("onnxruntime", reason="pip install 'crest-edge[onnx]'")
onnx = pytest.importorskip("onnx", reason="pip install 'crest-edge[onnx]'")


def session(model):
    import onnxruntime as ort
    from onnxruntime_extensions import get_library_path

    options = ort.SessionOptions()
    options.register_custom_ops_library(get_library_path())
    options.log_severity_level = 3
    source = model.SerializeToString() if hasattr(model, "SerializeToString") else str(model)
    return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])


def with_ids_out(path_or_model):
    """The graph, also returning the ids and mask its tokenizer part made."""
    model = onnx.load(str(path_or_model)) if not hasattr(path_or_model, "graph") else path_or_model
    for name in ("input_ids", "attention_mask"):
        model.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.INT64, ["b", "s"]))
    return session(model)


def graph_ids(sess, texts, batch=64):
    rows = []
    for start in range(0, len(texts), batch):
        ids, mask = sess.run(["input_ids", "attention_mask"], {"text": np.array(texts[start : start + batch], object)})
        rows.extend(list(row[: int(m.sum())]) for row, m in zip(ids.tolist(), mask))
    return rows


def mismatch_category(text: str) -> str:
    """Why the op cannot give transformers' ids for `text` (the categories of onnx_text.KNOWN_MISMATCHES)."""
    if any(t in unicodedata.normalize("NFKC", text) for t in ("<s>", "</s>", "<pad>", "<unk>", "<mask>")):
        return "special_token_text"
    if "\x00" in text:
        return "nul_character"
    clusters = grapheme_clusters(text)
    if any(len(c) > 1 and len(c.encode()) < 6 and c[0] >= "\u0800" for c in clusters):
        return "short_cluster_above_u0800"
    if any(len(c) > 1 and len(grapheme_clusters("a" + c[1:])) == 2 for c in clusters):
        return "prepend_cluster"
    return "unigram_tie"


@pytest.fixture(scope="module")
def artifact(demo_checkpoint, tmp_path_factory):
    from crest_edge.convert import convert

    out = tmp_path_factory.mktemp("text") / "demo-onnx-int8-text"
    return convert(demo_checkpoint, out, "onnx", "int8", options={"with_tokenizer": True, "ort": True})


def test_ids_equal_crest_edge_on_the_parity_corpus(artifact, corpus_texts):
    tokenizer = load_tokenizer(artifact)
    expected = [fit(tokenizer.encode(t), 512, "head")[0] for t in corpus_texts]
    got = graph_ids(with_ids_out(artifact / onnx_text.MODEL_FILE), corpus_texts)
    bad = [t for t, e, g in zip(corpus_texts, expected, got) if e != g]
    assert not bad, f"{len(bad)} of {len(corpus_texts)} corpus texts: {bad[:3]}"


def test_ids_on_the_tokenizer_test_strings(tmp_path):
    """Every string the op gets wrong falls in a named category, as many as the manifest says."""
    import test_tokenizer as tt

    from crest_edge.convert import onnx_tokenizer, spm_rewrite

    checkpoint = tt.write_checkpoint(tmp_path / "ckpt")
    spm_bytes, _ = spm_rewrite.rewrite((checkpoint / "sentencepiece.bpe.model").read_bytes())
    model = ids_only_model()
    onnx_tokenizer.attach(model, spm_bytes, 10**9, 1)  # no truncation: compare whole texts
    tokenizer = load_tokenizer(checkpoint)
    cases = tt.build_cases()
    got = graph_ids(with_ids_out(model), cases)
    wrong = collections.Counter(mismatch_category(t) for t, g in zip(cases, got) if g != [0, *tokenizer.encode(t), 2])
    assert dict(wrong) == {k: v["test_strings"] for k, v in onnx_text.KNOWN_MISMATCHES.items()}


def ids_only_model():
    """A stand-in classifier (logits = the first two ids) for testing the tokenizer part alone."""
    h, T = onnx.helper, onnx.TensorProto
    nodes = [
        h.make_node("Slice", ["input_ids", "zero", "two", "one"], ["first"]),
        h.make_node("Cast", ["first"], ["logits"], to=T.FLOAT),
    ]
    consts = [
        onnx.numpy_helper.from_array(np.array([v], np.int64), n) for n, v in (("zero", 0), ("two", 2), ("one", 1))
    ]
    graph = h.make_graph(
        nodes,
        "ids",
        [h.make_tensor_value_info(n, T.INT64, ["b", "s"]) for n in ("input_ids", "attention_mask")],
        [h.make_tensor_value_info("logits", T.FLOAT, ["b", 2])],
        initializer=consts,
    )
    return h.make_model(graph, opset_imports=[h.make_opsetid("", 17)], ir_version=8)


def test_long_text_keeps_the_head_and_pads_the_batch(artifact):
    tokenizer = load_tokenizer(artifact)
    long_text = " ".join(["ein langer Satz über das Wetter"] * 200)
    texts = ["kurz", long_text, ""]
    ids, mask = with_ids_out(artifact / onnx_text.MODEL_FILE).run(
        ["input_ids", "attention_mask"], {"text": np.array(texts, object)}
    )
    assert ids.shape == (3, 512)
    assert ids[1].tolist() == fit(tokenizer.encode(long_text), 512, "head")[0]
    short = fit(tokenizer.encode("kurz"), 512)[0]
    assert ids[0, : len(short)].tolist() == short and set(ids[0, len(short) :].tolist()) == {1}
    assert mask.sum(axis=1).tolist() == [len(short), 512, 2]


def test_logits_equal_model_onnx_and_p_unsafe_is_the_softmax(artifact, corpus_texts):
    texts = corpus_texts[:32]
    text_graph = with_ids_out(artifact / onnx_text.MODEL_FILE)
    logits, p_unsafe, ids, mask = text_graph.run(None, {"text": np.array(texts, object)})
    plain = session(artifact / "model.onnx").run(["logits"], {"input_ids": ids, "attention_mask": mask})[0]
    np.testing.assert_array_equal(logits, plain)
    softmax = np.exp(logits - logits.max(1, keepdims=True))
    np.testing.assert_allclose(p_unsafe, (softmax / softmax.sum(1, keepdims=True))[:, 1], atol=1e-6)


def test_ort_files_give_identical_logits(artifact, corpus_texts):
    texts = np.array(corpus_texts[:32], object)
    for name, feed in ((onnx_text.MODEL_FILE, {"text": texts}), ("model.onnx", None)):
        if feed is None:
            ids, mask = with_ids_out(artifact / onnx_text.MODEL_FILE).run(
                ["input_ids", "attention_mask"], {"text": texts}
            )
            feed = {"input_ids": ids, "attention_mask": mask}
        onnx_logits = session(artifact / name).run(["logits"], feed)[0]
        ort_logits = session(artifact / name.replace(".onnx", ".ort")).run(["logits"], feed)[0]
        np.testing.assert_array_equal(ort_logits, onnx_logits)
    config = (artifact / onnx_text.REQUIRED_OPERATORS).read_text(encoding="utf-8")
    assert "ai.onnx.contrib;1;SentencepieceTokenizer" in config and "/" not in config


def test_manifest_records_the_graph_and_the_mismatches(artifact):
    from crest_edge.formats.artifact import open_artifact

    manifest = open_artifact(artifact).manifest
    record = manifest.model["with_tokenizer"]
    assert record["file"] == onnx_text.MODEL_FILE and record["known_mismatches"] == onnx_text.KNOWN_MISMATCHES
    assert {onnx_text.MODEL_FILE, "model.ort", "model_with_tokenizer.ort", onnx_text.REQUIRED_OPERATORS} <= set(
        manifest.files
    )
    assert "onnxruntime-extensions" in manifest.versions


def test_options_of_other_formats_are_refused(demo_checkpoint, tmp_path, capsys):
    from crest_edge.cli import main

    code = main(
        [
            "convert",
            str(demo_checkpoint),
            "--to",
            "gguf",
            "--quant",
            "q8_0",
            "--with-tokenizer",
            "--out",
            str(tmp_path / "x.gguf"),
        ]
    )
    assert code != 0 and "--with-tokenizer" in capsys.readouterr().err


# Whole-corpus and engine sweeps: the full run (make test) keeps them; make test-fast stays under a minute.
pytestmark = pytest.mark.slow
