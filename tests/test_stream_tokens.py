"""Streamed tokenization (crest_edge.tokenizer.incremental): the ids settled chunk by chunk are the
ids of the whole text, for every way of cutting it, and they settle close behind the text."""

import random

import pytest
from test_tokenizer import build_cases, write_checkpoint

from crest_edge.data import parity_corpus_path, read_jsonl
from crest_edge.errors import ClosedError
from crest_edge.tokenizer import JSON_FILE, SPM_FILE, JsonTokenizer, load_tokenizer
from crest_edge.tokenizer.graphemes import grapheme_clusters
from crest_edge.tokenizer.incremental import IncrementalEncoder


@pytest.fixture(scope="session", params=["demo", "trained"])
def tokenizer(request, demo_checkpoint, tmp_path_factory):
    """The demo's tokenizer (4,000 pieces), and the tokenizer suite's own (3,000 pieces, trained on
    its many-script corpus)."""
    if request.param == "demo":
        return load_tokenizer(demo_checkpoint)
    return load_tokenizer(write_checkpoint(tmp_path_factory.mktemp("stream-tok") / "ckpt"))


def streamed(tokenizer, chunks) -> list[int]:
    encoder = IncrementalEncoder(tokenizer)
    ids = []
    for chunk in chunks:
        ids += encoder.feed(chunk)
    return ids + encoder.close()


def random_chunks(text: str, rng: random.Random, sizes) -> list[str]:
    out, i = [], 0
    while i < len(text):
        n = rng.choice(sizes)
        out.append(text[i : i + n])
        i += n
    return out


def hard_texts(corpus_texts) -> list[str]:
    no_spaces = "".join(t for t in corpus_texts if not any(c.isspace() for c in t))
    return [
        *corpus_texts,
        " ".join(corpus_texts),
        no_spaces,  # zh, ja, th, ... run together: one word of several thousand characters
        "<ma" + "sk> x<mask>y <s></s><pad><unk> ＜s＞ ＜mask＞",
        "a \u0301b \u0301\u0301 c\r\nd\re\n\n",
        "e\u0301\u0323 \u0915\u094d\u0937\u093f \U0001f1eb\U0001f1f7\U0001f1e9\U0001f1ea",
        "\U0001f468\u200d\U0001f469\u200d\U0001f467 \U0001f468\u200d\U0001f469\u200d\U0001f467",
        "▁▁a▁▁b ▁ a▁",
        "=" * 700 + " " + "ab" * 700 + "\U000f0001" * 40 + "x\ufdfa" * 20,
        "\ud83d\ude00 lone \udc00 surrogates",
        "nel\x85next\u3000ideographic\u00a0nbsp\u2028\u2029\x0b\x0c\x00\x01",
    ]


def test_any_chunking_gives_the_ids_of_the_whole_text(tokenizer, corpus_texts):
    rng = random.Random(19)
    for text in hard_texts(corpus_texts):
        want = tokenizer.encode(text)
        for sizes in ([1], [0, 1, 2, 3, 5, 8], [0, 13, 40, 200]):
            assert streamed(tokenizer, random_chunks(text, rng, sizes)) == want, (text[:60], sizes)


def test_cuts_inside_grapheme_clusters_and_added_tokens(tokenizer):
    texts = ["x <mask> y", "a\r\nb", "ce\u0301\u0323d", "\U0001f468\u200d\U0001f469\u200d\U0001f467!", "क्षि"]
    for text in texts:
        assert any(len(g) > 1 for g in grapheme_clusters(text)) or "<mask>" in text
        for cut in range(len(text) + 1):
            assert streamed(tokenizer, [text[:cut], "", text[cut:]]) == tokenizer.encode(text), (text, cut)


def test_the_tokenizer_suite_stress_cases(tokenizer):
    """Every case of tests/test_tokenizer.py (whitespace games, NFD/NFKD, random characters from
    stressful ranges, 100,000 characters with few spaces), cut at random."""
    rng = random.Random(7)
    for text in build_cases():
        sizes = rng.choice([[1], [1, 2, 3, 7], [0, 5, 50], [500]])
        assert streamed(tokenizer, random_chunks(text, rng, sizes)) == tokenizer.encode(text), text[:80]


def test_settled_plus_pending_is_the_text_so_far(tokenizer, corpus_texts):
    """What a check sees: the ids settled so far and the provisional ids of the rest are exactly the
    tokenization of the text received so far."""
    rng = random.Random(3)
    texts = [t[:600] for t in hard_texts(corpus_texts)[-9:]] + rng.sample(corpus_texts, 40)
    for text in texts:
        encoder, settled, seen = IncrementalEncoder(tokenizer), [], ""
        for chunk in random_chunks(text, rng, [0, 1, 2, 7]):
            settled += encoder.feed(chunk)
            seen += chunk
            if rng.random() < 0.2:
                assert settled + encoder.pending(10**6) == tokenizer.encode(seen), seen[-40:]
        assert encoder.pending(3) == tokenizer.encode(seen)[len(settled) :][-3:]


def test_ids_settle_close_behind_the_text(tokenizer):
    """Bounded work: what is not settled yet (re-tokenized at each check) stays a few pieces long,
    also in scripts written without spaces."""
    rows = list(read_jsonl(parity_corpus_path()))
    for langs in (("zh", "zh-Hant", "yue"), ("ja",), ("th",), ("en", "de", "fr")):
        text = ("" if langs[0] != "en" else " ").join(r["text"] for r in rows if r["lang"] in langs)
        encoder, settled, lags = IncrementalEncoder(tokenizer), 0, []
        for char in text[:3000]:
            settled += len(encoder.feed(char))
            lags.append(len(encoder.pending(10**6)))
        assert settled + len(encoder.close()) == len(tokenizer.encode(text[:3000]))
        assert max(lags) <= 40, (langs, max(lags))
        assert sorted(lags)[len(lags) // 2] <= 6, (langs, sorted(lags)[len(lags) // 2])


def test_only_sentencepiece_tokenizers_and_no_feed_after_close(tokenizer, demo_checkpoint, tmp_path):
    encoder = IncrementalEncoder(tokenizer)
    encoder.feed("hello")
    encoder.close()
    with pytest.raises(ClosedError):
        encoder.feed("more")
    transformers = pytest.importorskip("transformers")
    hf = transformers.XLMRobertaTokenizer.from_pretrained(str(demo_checkpoint))
    hf.save_pretrained(str(tmp_path))
    (tmp_path / SPM_FILE).unlink(missing_ok=True)
    json_only = load_tokenizer(tmp_path)
    assert isinstance(json_only, JsonTokenizer) and (tmp_path / JSON_FILE).is_file()
    with pytest.raises(TypeError, match="sentencepiece"):
        IncrementalEncoder(json_only)


# Whole-corpus and engine sweeps: the full run (make test) keeps them; make test-fast stays under a minute.
pytestmark = pytest.mark.slow
