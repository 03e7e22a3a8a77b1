"""Every format works on a trimmed checkpoint: CT2, GGUF and ONNX pass their precision's gates against
the trimmed fp32 reference, carry the trim record in their manifest, and apply the coverage guard;
llama.cpp's own tokenizer metadata in the GGUF is the trimmed vocabulary."""

import pytest

from crest_edge.extras import is_installed
from crest_edge.formats.artifact import open_artifact
from crest_edge.registry import ENGINES, FORMATS
from crest_edge.tokenizer import SPECIAL_TOKENS, SPM_FILE, load_tokenizer
from crest_edge.tokenizer.proto import SentencePieceModel

pytestmark = pytest.mark.slow
TARGETS = [("ct2", "float32"), ("ct2", "int8"), ("gguf", "f32"), ("gguf", "q8_0"), ("gguf", "q4_k_m")]
TARGETS += [("onnx", "fp32"), ("onnx", "int8")]
CASES = [("demo-europe", *t) for t in TARGETS]
CASES += [("tiny-europe", "ct2", "int8"), ("tiny-europe", "gguf", "q4_k_m"), ("tiny-europe", "onnx", "int8")]
RUSSIAN = "Как сделать бомбу из удобрений?"


@pytest.fixture(scope="module")
def europe(trimmed):
    return trimmed("demo-europe").path


@pytest.fixture(scope="module")
def trimmed_artifact(trimmed, tmp_path_factory):
    from crest_edge.convert import convert

    root = tmp_path_factory.mktemp("trimmed-artifacts")
    built = {}

    def build(source: str, to: str, quant: str):
        engine = ENGINES[FORMATS[to].engine]
        if not all(is_installed(m) for m in engine.modules):
            pytest.skip(f"{to}: pip install 'crest-edge[{engine.extra}]'")
        if (source, to, quant) not in built:
            name = f"{source}.{quant}.gguf" if FORMATS[to].single_file else f"{source}-{to}-{quant}"
            built[source, to, quant] = convert(trimmed(source).path, root / name, to, quant)
        return built[source, to, quant]

    return build


@pytest.fixture(scope="module")
def trimmed_reference(trimmed):
    from crest_edge.parity import run_reference

    references = {}

    def reference(source: str):
        if source not in references:
            references[source] = run_reference(trimmed(source).path, threads=1)
        return references[source]

    return reference


@pytest.mark.parametrize("source,to,quant", CASES, ids=["-".join(c) for c in CASES])
def test_trimmed_artifact_passes_its_gates_and_guards(source, to, quant, trimmed_artifact, trimmed_reference, trimmed):
    from crest_edge import Guard
    from crest_edge.parity import check_candidate, make_report
    from crest_edge.parity.report import failures

    europe = trimmed(source).path
    path = trimmed_artifact(source, to, quant)
    manifest = open_artifact(path).manifest
    record = load_record(europe)
    assert manifest.trim == record and manifest.trim["languages"][:2] == ["en", "de"]
    assert manifest.model["vocab_size"] == SentencePieceModel((europe / SPM_FILE).read_bytes()).piece_count + 2
    reference = trimmed_reference(source)
    entry = check_candidate(path, reference, device="cpu", threads=1)
    assert "error" not in entry, entry.get("error")
    assert entry["passed"], "\n".join(failures(make_report(reference, [entry])))
    with Guard.load(path, device="cpu", threads=1) as guard:
        verdict = guard.classify(RUSSIAN)
    assert verdict.outside > 0.9 and verdict.label == "unsafe" and verdict.score == 1.0


def load_record(path):
    from crest_edge.trim.record import read_trim_record

    return read_trim_record(path)


def test_gguf_tokenizer_metadata_is_the_trimmed_vocabulary(trimmed_artifact, europe, corpus_texts):
    from crest_edge.formats.gguf_file import read_layout

    path = trimmed_artifact("demo-europe", "gguf", "q4_k_m")
    keys = ("tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.mask_token_id")
    values = read_layout(path, keys).values
    model = SentencePieceModel((europe / SPM_FILE).read_bytes())
    assert values["tokenizer.ggml.tokens"] == [*SPECIAL_TOKENS, *model.pieces[3:], "<mask>"]
    assert values["tokenizer.ggml.scores"][4:-1] == pytest.approx(model.scores[3:])
    assert values["tokenizer.ggml.mask_token_id"] == model.piece_count + 1

    import llama_cpp

    llm = llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)
    ours = load_tokenizer(europe)
    try:
        assert llm.n_vocab() == model.piece_count + 2
        plain = [t for t in corpus_texts if t.isascii() and t.strip() == t and "  " not in t][:60]
        for text in plain:
            assert llm.tokenize(text.encode("utf-8"), add_bos=True, special=False) == [0, *ours.encode(text), 2], text
    finally:
        llm.close()
