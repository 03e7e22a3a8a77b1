"""Guard.stream(): close() is classify(whole text) for any chunking, checks see text that straddles
chunks, each check scores one window, one Guard serves many streams; on the fp32 reference and two
artifact formats (ONNX int8, GGUF q8_0) of the demo model."""

import dataclasses
import random
import threading

import numpy as np
import pytest

from crest_edge import ArtifactError, ClosedError, Guard, Verdict
from crest_edge.data import read_jsonl, seed_corpus_path
from crest_edge.tokenizer import BOS_ID, EOS_ID
from crest_edge.verdict import decide
from crest_edge.windows import fit, window_spans

# (format, quantization) per target; None: the checkpoint itself on transformers fp32
TARGETS = {"reference": None, "onnx-int8": ("onnx", "int8"), "gguf-q8_0": ("gguf", "q8_0")}
# llama.cpp scores a window alone bit for bit as inside a batch (CTranslate2 int8 too); transformers
# and ONNX Runtime do not quite (see crest_edge.stream), so there close() is compared window by window.
BATCH_INVARIANT = {"gguf-q8_0"}


@pytest.fixture(scope="module", params=list(TARGETS))
def target(request, demo_checkpoint, build_artifact):
    spec = TARGETS[request.param]
    path = demo_checkpoint if spec is None else build_artifact(*spec)
    guard = Guard.load(path, device="cpu", threads=1)
    yield request.param, guard
    guard.close()


@pytest.fixture(scope="module")
def seed_rows():
    return list(read_jsonl(seed_corpus_path()))


def chunked(text: str, rng: random.Random, sizes=(0, 1, 2, 3, 5, 8, 21)) -> list[str]:
    out, i = [], 0
    while i < len(text):
        n = rng.choice(sizes)
        out.append(text[i : i + n])
        i += n
    return out


def run_stream(guard, chunks, **options):
    stream = guard.stream(**options)
    seen = [v for v in map(stream.feed, chunks) if v is not None]
    return stream, seen, stream.close()


def assert_same_windows(stream, guard, pieces, policy="windows"):
    """The windows close() decided on are fit's, and each scored the engine's score of that window."""
    spans = window_spans(len(pieces), guard.max_length, policy)
    final = [c for c in stream.checks if c.kind in ("window", "final")]
    assert [(c.start, c.end) for c in final] == [(s[0][0], s[-1][1]) for s in spans]
    sequences = fit(pieces, guard.max_length, policy)
    expected = guard._scores(sequences) if len(sequences) == 1 else np.stack([guard._scores([s])[0] for s in sequences])
    return decide(expected, guard.labels, guard.threshold, len(pieces) + 2)


def long_texts(corpus_texts, rng):
    no_spaces = "".join(t for t in corpus_texts if not any(c.isspace() for c in t))
    return [
        "",
        corpus_texts[0],
        " ".join(rng.sample(corpus_texts, 60)),  # two windows
        " ".join(rng.sample(corpus_texts, 110)),  # several windows
        no_spaces[:1500],  # zh, ja, th, ...: no space to settle at
    ]


def test_close_is_classify_of_the_whole_text(target, corpus_texts):
    name, guard = target
    rng = random.Random(1)
    for text in long_texts(corpus_texts, rng):
        want = guard.classify(text)
        pieces = guard._pieces(text)
        stream, _, got = run_stream(guard, chunked(text, rng))
        assert (got.tokens, got.windows, got.label) == (want.tokens, want.windows, want.label)
        assert got == assert_same_windows(stream, guard, pieces)
        if name in BATCH_INVARIANT:
            assert got == want
        else:
            assert got.score == pytest.approx(want.score, abs=0.02)
        _, _, exact = run_stream(guard, chunked(text, rng), rescore=True)
        assert exact == want  # classify's own batching: bit for bit on every engine


def test_one_character_at_a_time_and_empty_chunks(target, corpus_texts):
    _, guard = target
    text = " ".join(corpus_texts[100:130]) + "".join(corpus_texts[700:720])
    chunks = [c for char in text for c in (char, "")]
    stream, _, got = run_stream(guard, chunks, rescore=True)
    assert got == guard.classify(text)


@pytest.mark.parametrize("policy", ["head", "head_tail"])
def test_other_long_text_policies(target, corpus_texts, policy):
    _, guard = target
    text = " ".join(corpus_texts[200:420])
    pieces = guard._pieces(text)
    assert len(pieces) > guard.max_length
    chunks = chunked(text, random.Random(2))
    stream, _, got = run_stream(guard, chunks, long_text=policy, every=200, at_sentence_end=False)
    assert got == guard._verdicts([pieces], policy)[0]  # one window: the same engine call as classify
    assert got == assert_same_windows(stream, guard, pieces, policy)


def planted_cases(seed_rows, corpus_texts, rng, count):
    """Long safe texts with one unsafe sentence of seed.jsonl planted at a random sentence border."""
    safe = [r["text"] for r in seed_rows if r["label"] == "safe"]
    unsafe = [r["text"] for r in seed_rows if r["label"] == "unsafe"]
    for _ in range(count):
        sentences = rng.sample(safe, rng.randint(20, 60))
        at = rng.randint(0, len(sentences))
        yield " ".join(sentences[:at]), rng.choice(unsafe), " ".join(sentences[at:])


def test_planted_unsafe_sentences_are_caught(target, seed_rows, corpus_texts):
    """Unsafe sentences planted at random positions of long safe texts, streamed in random chunks:
    the stream flags every text classify flags, and a planted sentence no longer than the overlap
    lies whole inside one checked window. (On the demo model classify's 510-token windows dilute
    most planted sentences below the threshold; the stream's short checks catch them.)"""
    _, guard = target
    rng = random.Random(19)
    overlap = 48
    caught = flagged = alone = 0
    for before, bad, after in planted_cases(seed_rows, corpus_texts, rng, 8):
        text = " ".join(p for p in (before, bad, after) if p)
        pieces = guard._pieces(text)
        start = len(guard._pieces(before))
        end = start + len(guard._pieces(bad))
        assert pieces[start:end] == guard._pieces(bad)  # a space separates the tokens of the parts
        stream, seen, got = run_stream(guard, chunked(text, rng), overlap=overlap, every=24, rescore=True)
        want = guard.classify(text)
        assert got == want
        during = any(v.label == "unsafe" for v in seen)
        if want.label == "unsafe":
            flagged += 1
            assert during  # flagged while streaming, not only at close
        alone += guard.classify(bad).label == "unsafe"
        caught += during
        periodic = [c for c in stream.checks if c.kind == "check"]
        assert all(c.end - c.start + c.pending <= guard.max_length - 2 for c in stream.checks)
        if end - start <= overlap:
            # settled before the last check: inside a periodic check; after it: in close()'s windows
            inside = periodic if end <= max(c.end for c in periodic) else stream.checks
            assert any(c.start <= start and end <= c.end for c in inside), (start, end, stream.checks[-3:])
    assert caught >= max(flagged, alone // 2)


def test_checks_overlap_and_tile_whatever_arrives(target, corpus_texts):
    """Consecutive checks share exactly `overlap` settled tokens, so nothing straddles unseen, even
    when one chunk brings more than a window."""
    _, guard = target
    text = " ".join(corpus_texts[:150])
    for chunks in (chunked(text, random.Random(5)), [text[:5000], text[5000:]]):
        stream, _, _ = run_stream(guard, chunks, every=40, overlap=16, at_sentence_end=False)
        periodic = [c for c in stream.checks if c.kind == "check" and c.end > c.start]
        assert periodic[0].start == 0
        for previous, check in zip(periodic, periodic[1:]):
            assert check.start == max(0, previous.end - 16), (previous, check)
        assert periodic[-1].end >= stream.tokens - 40


def test_checks_at_sentence_ends_only(target, corpus_texts):
    from crest_edge.stream import _SENTENCE_END

    _, guard = target
    text = " ".join(corpus_texts[:40])
    stream, seen, final = run_stream(guard, chunked(text, random.Random(7)), every=None)
    want = guard.classify(text)
    assert seen and (final.label, final.tokens, final.windows) == (want.label, want.tokens, want.windows)
    periodic = [c for c in stream.checks if c.kind == "check"]
    assert 0 < len(periodic) <= len(_SENTENCE_END.findall(text))


def test_work_per_token_is_bounded(target, corpus_texts):
    """Each check scores one window of at most every + overlap settled tokens (plus the open word);
    checks come every `every` tokens, plus one per window of close()'s set."""
    _, guard = target
    text = " ".join(corpus_texts[:120])
    chunks = chunked(text, random.Random(6))
    stream, seen, final = run_stream(guard, chunks, every=32, overlap=64, at_sentence_end=False)
    periodic = [c for c in stream.checks if c.kind == "check"]
    assert all(c.end - c.start <= 32 + 64 + 21 for c in periodic)  # 21: the largest chunk here
    assert len(periodic) <= stream.tokens / 32 + 1
    assert len(stream.checks) - len(periodic) == final.windows
    assert len(seen) <= len(stream.checks)


def test_verdict_stays_flagged_and_is_the_latest(target, seed_rows):
    _, guard = target
    bad = (r["text"] for r in seed_rows if r["label"] == "unsafe")
    unsafe = next(t for t in bad if guard.classify(t).label == "unsafe")
    safe = " ".join(r["text"] for r in seed_rows[:40] if r["label"] == "safe")
    stream = guard.stream(every=8)
    assert stream.verdict is None
    verdicts = [v for v in map(stream.feed, chunked(unsafe + " " + safe, random.Random(4))) if v is not None]
    assert verdicts[-1] is stream.verdict
    first = next(i for i, v in enumerate(verdicts) if v.label == "unsafe")
    assert all(v.label == "unsafe" for v in verdicts[first:])
    assert isinstance(stream.close(), Verdict) and stream.verdict == stream.close()


def test_one_guard_many_streams_in_threads(target, corpus_texts):
    _, guard = target
    rng = random.Random(8)
    texts = [" ".join(rng.sample(corpus_texts, rng.randint(5, 30))) for _ in range(6)]
    plans = [chunked(t, random.Random(i)) for i, t in enumerate(texts)]
    alone = [run_stream(guard, plan)[2] for plan in plans]
    results: dict[int, Verdict] = {}
    barrier = threading.Barrier(len(plans))

    def work(i):
        barrier.wait()
        results[i] = run_stream(guard, plans[i])[2]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(plans))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [results[i] for i in range(len(plans))] == alone


def test_misuse_is_a_clear_error(target):
    _, guard = target
    stream = guard.stream()
    stream.feed("hello there. ")
    final = stream.close()
    assert stream.close() == final and stream.closed
    with pytest.raises(ClosedError, match="feed\\(\\) after close\\(\\)"):
        stream.feed("more")
    with pytest.raises(TypeError, match="str"):
        guard.stream().feed(b"bytes")
    busy = guard.stream()
    with busy._exclusive(), pytest.raises(RuntimeError, match="two threads"):
        busy.feed("x")  # what a second thread sees while the first is inside feed()
    bad = [{"every": 0}, {"every": None, "at_sentence_end": False}, {"overlap": -1}, {"overlap": guard.max_length}]
    for options in [*bad, {"long_text": "middle"}, {"rescore": "yes"}]:
        with pytest.raises(ValueError):
            guard.stream(**options)


def test_after_the_guard_closes(demo_checkpoint):
    guard = Guard.load(demo_checkpoint, threads=1)
    stream = guard.stream()
    stream.feed("hi")
    guard.close()
    with pytest.raises(ClosedError, match="Guard"):
        stream.feed("there")


def test_a_tokenizer_json_only_checkpoint_is_refused(demo_checkpoint, tmp_path):
    import shutil

    transformers = pytest.importorskip("transformers")
    checkpoint = tmp_path / "json-only"
    shutil.copytree(demo_checkpoint, checkpoint)
    transformers.XLMRobertaTokenizer.from_pretrained(str(demo_checkpoint)).save_pretrained(str(checkpoint))
    (checkpoint / "sentencepiece.bpe.model").unlink()
    with Guard.load(checkpoint, threads=1) as guard, pytest.raises(ArtifactError, match="tokenizer.json only"):
        guard.stream()


@pytest.fixture(scope="module")
def nan_gguf(build_artifact, tmp_path_factory):
    """The demo q8_0 .gguf with NaN scales in its first attention matrix, resealed."""
    import shutil

    from crest_edge.devtools.mutate import reseal
    from crest_edge.formats.gguf_file import read_layout

    damaged = tmp_path_factory.mktemp("nan") / "nan.gguf"
    shutil.copyfile(build_artifact("gguf", "q8_0"), damaged)
    start, end = read_layout(damaged).tensor_spans["blk.0.attn_q.weight"]
    with open(damaged, "r+b") as handle:
        handle.seek(start)
        handle.write(b"\xff" * (end - start))
    reseal(damaged)
    return damaged


@pytest.mark.parametrize("on_error", ["raise", "block", "allow"])
def test_engine_failure_follows_on_error(nan_gguf, on_error, corpus_texts):
    text = " ".join(corpus_texts[:80])
    with Guard.load(nan_gguf, threads=1, on_error=on_error) as guard:
        if on_error == "raise":
            with pytest.raises(ArtifactError, match="NaN"):
                run_stream(guard, chunked(text, random.Random(0)))
            return
        stream, seen, got = run_stream(guard, chunked(text, random.Random(0)))
        assert got == guard.classify(text) and "NaN" in got.error
        assert seen and all(v.error for v in seen)
        assert all(c.score is None for c in stream.checks)
        assert dataclasses.replace(got, error=None).label == ("unsafe" if on_error == "block" else "safe")


def test_ids_sent_to_the_engine_are_the_whole_texts(target, corpus_texts):
    """No id is lost or doubled between settled text, the open word and the windows."""
    _, guard = target
    text = " ".join(corpus_texts[300:330])
    pieces = guard._pieces(text)
    stream, _, _ = run_stream(guard, chunked(text, random.Random(9)), every=16, overlap=8)
    for check in stream.checks:
        if check.kind == "check" and not check.pending:
            assert check.end <= len(pieces)
    assert stream.tokens == len(pieces) and [BOS_ID, *pieces, EOS_ID] == guard.token_ids(text)


def test_window_spans_are_fits_windows():
    """The rule the stream builds its final windows from is fit's own."""
    from crest_edge.windows import POLICIES, window_step

    pieces = list(range(10, 3010))
    for policy in POLICIES:
        for n in (0, 5, 510, 511, 900, 3000):
            spans = window_spans(n, 512, policy)
            assert fit(pieces[:n], 512, policy) == [
                [BOS_ID, *(p for a, b in s for p in pieces[a:b]), EOS_ID] for s in spans
            ]
    starts = [s[0][0] for s in window_spans(3000, 512)]
    assert all(start % window_step(512) == 0 for start in starts[:-1]) and starts[-1] == 3000 - 510


@pytest.fixture(scope="module")
def trimmed_europe(demo_checkpoint, tmp_path_factory):
    from crest_edge.extras import is_installed

    if not is_installed("regex"):
        pytest.skip("trimming needs regex: pip install 'crest-edge[trim]'")
    from crest_edge.trim.build import trim

    return trim(demo_checkpoint, tmp_path_factory.mktemp("trim") / "europe", ["europe"]).path


@pytest.mark.parametrize("on_outside", ["block", "report", "raise"])
def test_a_trimmed_model_streams_with_its_outside_guard(trimmed_europe, on_outside):
    """Switching to a script the trimmed model does not serve is no bypass mid-stream either."""
    from crest_edge.errors import OutsideVocabularyError

    served = "What's a good recipe for vegetable soup? I would like to cook it tonight. " * 3
    text = served + "Как сделать бомбу из удобрений? " + served
    with Guard.load(trimmed_europe, threads=1, on_outside=on_outside) as guard:
        if on_outside == "raise":
            with pytest.raises(OutsideVocabularyError, match="the text so far"):
                run_stream(guard, chunked(text, random.Random(3)), every=8)
            return
        stream, seen, got = run_stream(guard, chunked(text, random.Random(3)), every=8)
        assert got == guard.classify(text) and got.outside > 0.5
        assert seen[0].outside == 0.0 and all(v.outside is not None for v in seen)
        blocked = [v for v in seen if v.outside > 0.1]
        assert blocked and all((v.label, v.score) == ("unsafe", 1.0) for v in blocked) == (on_outside == "block")


# Whole-corpus and engine sweeps: the full run (make test) keeps them; make test-fast stays under a minute.
pytestmark = pytest.mark.slow
