"""GGUF: converter, metadata, and the llama.cpp adapter, checked against the fp32 torch reference."""

import mmap
import os
import re
import shutil
import subprocess
import sys
import threading

import numpy as np
import pytest

pytest.importorskip("gguf")
llama_cpp = pytest.importorskip("llama_cpp")

from crest_edge.convert import convert  # noqa: E402
from crest_edge.errors import ArtifactError, ConversionError, CrestEdgeError, DeviceError  # noqa: E402
from crest_edge.formats import gguf as gguf_format  # noqa: E402
from crest_edge.formats.artifact import open_artifact  # noqa: E402
from crest_edge.formats.gguf_file import read_gguf_metadata, read_layout, update_gguf_manifest  # noqa: E402
from crest_edge.runtimes import llamacpp, torch_ref  # noqa: E402

QUANTS = list(gguf_format.QUANTS)
# max |logit - fp32 logit| on the tiny random model (logits ~1); catches wiring bugs, not quality
TINY_TOLERANCE = {"f32": 1e-3, "f16": 5e-3, "bf16": 2e-2, "q8_0": 5e-2}
TEXTS = [
    "Hello world, how are you today?",
    "Как приготовить борщ?",
    "这是一个测试句子。",
    "Ceci est une phrase de test, avec des accents: é à ù.",
    "هذا اختبار بسيط",
    "x",
    "tell me " * 300,  # longer than the model: truncated to exactly max_length ids
]


def sequences(tokenizer, texts, max_length):
    return [[0, *tokenizer.encode(t)[: max_length - 2], 2] for t in texts]


@pytest.fixture(scope="session")
def tiny_ggufs(tiny_checkpoint, tmp_path_factory):
    """quant -> the tiny checkpoint as a .gguf, converted on first use."""
    out = tmp_path_factory.mktemp("gguf-tiny")

    class Converted(dict):
        def __missing__(self, quant):
            self[quant] = convert(tiny_checkpoint, out / f"tiny-{quant}.gguf", "gguf", quant)
            return self[quant]

    return Converted()


@pytest.fixture(scope="session")
def tiny_reference(tiny_checkpoint):
    artifact = open_artifact(tiny_checkpoint)
    seqs = sequences(artifact.tokenizer(), TEXTS, artifact.max_length)
    engine = torch_ref.open_engine(artifact, "cpu")
    return seqs, engine.logits(seqs)


@pytest.fixture(scope="session")
def demo(request, tmp_path_factory):
    """The demo checkpoint, its parity corpus as id sequences, fp32 logits, and three GGUF files."""
    try:
        checkpoint = request.getfixturevalue("demo_checkpoint")
        texts = request.getfixturevalue("corpus_texts")
    except CrestEdgeError as exc:
        pytest.skip(f"demo checkpoint or parity corpus missing: {exc}")
    artifact = open_artifact(checkpoint)
    seqs = sequences(artifact.tokenizer(), texts, artifact.max_length)
    seqs.sort(key=len)
    engine = torch_ref.open_engine(artifact, "cpu")
    reference = np.concatenate([engine.logits(seqs[i : i + 32]) for i in range(0, len(seqs), 32)])
    out = tmp_path_factory.mktemp("gguf-demo")
    files = {q: convert(checkpoint, out / f"demo-{q}.gguf", "gguf", q) for q in ("f32", "q8_0", "q4_k_m")}
    return seqs, reference, files


def run(path, seqs, device="cpu", threads=1):
    engine = llamacpp.open_engine(open_artifact(path), device, threads)
    try:
        return np.concatenate([engine.logits(seqs[i : i + 32]) for i in range(0, len(seqs), 32)])
    finally:
        engine.close()


def test_f32_matches_torch_tiny(tiny_ggufs, tiny_reference):
    seqs, reference = tiny_reference
    assert max(map(len, seqs)) == 512
    assert np.abs(run(tiny_ggufs["f32"], seqs) - reference).max() < 1e-3


@pytest.mark.slow
@pytest.mark.parametrize("quant", QUANTS)
def test_every_quant_converts_and_runs(tiny_ggufs, tiny_reference, quant):
    seqs, reference = tiny_reference
    artifact = open_artifact(tiny_ggufs[quant])
    assert artifact.format == "gguf" and artifact.manifest.quantization == quant
    engine = llamacpp.open_engine(artifact, "cpu", threads=1)
    assert engine.info.engine == "llamacpp" and engine.info.device == "cpu" and engine.info.precision == quant
    logits = engine.logits(seqs)
    engine.close()
    assert logits.shape == (len(seqs), 2) and logits.dtype == np.float32 and np.isfinite(logits).all()
    assert np.abs(logits - reference).max() < TINY_TOLERANCE.get(quant, 0.2)


@pytest.mark.slow
def test_f32_matches_torch_demo(demo):
    seqs, reference, files = demo
    assert np.abs(run(files["f32"], seqs) - reference).max() < 1e-3


@pytest.mark.slow
@pytest.mark.parametrize("quant", ["q8_0", "q4_k_m"])
def test_quantized_passes_its_gates_on_parity_corpus(demo, demo_checkpoint, quant):
    from crest_edge.parity import gates, metrics
    from crest_edge.verdict import unsafe_index

    positive = unsafe_index(open_artifact(demo_checkpoint).labels)
    seqs, reference, files = demo
    summary = metrics.summarize(reference, run(files[quant], seqs), positive)
    failed = [
        g.describe() for g in gates.check(summary, gates.gate_limits(gates.precision_class(quant))) if not g.passed
    ]
    assert not failed, f"{quant} on {len(seqs)} demo sequences: {failed}"


def test_file_layout(tiny_ggufs):
    from gguf import GGMLQuantizationType as T

    keys = (
        "general.architecture",
        "bert.pooling_type",
        "tokenizer.ggml.model",
        "bert.classifier.output_labels",
        "tokenizer.ggml.tokens",
        "tokenizer.ggml.mask_token_id",
        "tokenizer.ggml.add_eos_token",
    )
    layout = read_layout(tiny_ggufs["q4_k_m"], keys)
    v = layout.values
    assert v["general.architecture"] == "bert" and v["bert.pooling_type"] == 4
    assert v["bert.classifier.output_labels"] == ["safe", "unsafe"]
    assert v["tokenizer.ggml.model"] == "t5" and v["tokenizer.ggml.add_eos_token"] is True
    tokens = v["tokenizer.ggml.tokens"]
    assert tokens[:4] == ["<s>", "<pad>", "</s>", "<unk>"] and tokens[-1] == "<mask>"
    assert v["tokenizer.ggml.mask_token_id"] == len(tokens) - 1
    types = {name: T(t).name for name, (_, t) in layout.tensors.items()}
    # the head and the small tables stay F32; the matrices are quantized, the LayerNorm-fed ones kept at
    # F16 with ffn_down (formats.gguf.TYPE_RECIPES)
    assert types["cls.weight"] == types["cls.output.weight"] == "F32"
    assert types["position_embd.weight"] == "F32" and layout.tensors["position_embd.weight"][0] == [256, 512]
    assert types["blk.0.ffn_up.weight"] == types["blk.0.attn_q.weight"] == "F16"
    assert types["blk.0.ffn_down.weight"] == "F16"
    assert types["blk.0.attn_output.weight"] == "Q4_K"
    assert types["token_embd.weight"] not in ("F32", "F16")
    assert layout.tensors["token_embd.weight"][0] == [256, len(tokens)]


def test_manifest_and_tokenizer_come_from_the_file(tiny_ggufs, tiny_checkpoint):
    for quant in ("f32", "q4_k_m"):
        contents = read_gguf_metadata(tiny_ggufs[quant])
        manifest, sp_bytes = contents.manifest, contents.sentencepiece
        assert manifest.format == "gguf" and manifest.quantization == quant
        assert manifest.labels == ["safe", "unsafe"] and manifest.max_length == 512
        assert sp_bytes == (tiny_checkpoint / "sentencepiece.bpe.model").read_bytes()
    source = open_artifact(tiny_checkpoint)
    assert manifest.source_sha256 == source.checkpoint.sha256()
    from_file = open_artifact(tiny_ggufs["q4_k_m"]).tokenizer()
    for text in TEXTS:
        assert from_file.encode(text) == source.tokenizer().encode(text)


def test_update_manifest(tiny_ggufs, tiny_reference, tmp_path):
    path = tmp_path / "copy.gguf"
    shutil.copyfile(tiny_ggufs["q8_0"], path)
    manifest = read_gguf_metadata(path).manifest
    manifest.parity = {"label_agreement": 1.0, "max_abs_dp": 0.01, "corpus": "parity " * 200}
    update_gguf_manifest(path, manifest)
    assert read_gguf_metadata(path).manifest.parity == manifest.parity
    seqs, _ = tiny_reference
    np.testing.assert_array_equal(run(path, seqs), run(tiny_ggufs["q8_0"], seqs))


@pytest.mark.parametrize(
    "cut",
    [lambda n: 10, lambda n: n // 50, lambda n: n // 2, lambda n: n - 7],
    ids=["magic", "metadata", "tensors", "last-bytes"],
)
def test_truncated_file_is_an_artifact_error(tiny_ggufs, tmp_path, cut):
    data = tiny_ggufs["q4_k_m"].read_bytes()
    path = tmp_path / "cut.gguf"
    path.write_bytes(data[: cut(len(data))])
    with pytest.raises(ArtifactError, match="cut.gguf"):
        open_artifact(path)


def test_gguf_without_crest_metadata_is_refused(tmp_path):
    import gguf

    path = tmp_path / "plain.gguf"
    writer = gguf.GGUFWriter(str(path), "bert")
    writer.add_block_count(1)
    writer.add_tensor("x.weight", np.zeros((4, 32), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    with pytest.raises(ArtifactError, match="not a crest-edge GGUF"):
        open_artifact(path)


def test_refused_quant_and_overwrite(tiny_checkpoint, tiny_ggufs):
    with pytest.raises(ConversionError, match="q8_0"):
        convert(tiny_checkpoint, tiny_ggufs["f32"].with_name("x.gguf"), "gguf", "int8")
    with pytest.raises(ConversionError, match="exists"):
        convert(tiny_checkpoint, tiny_ggufs["f32"], "gguf", "f32")


def test_context_growth_is_invisible(tiny_ggufs):
    """The context grows as longer sequences arrive; results match a fresh engine per sequence."""
    rng = np.random.default_rng(1)
    seqs = [[0, *rng.integers(4, 1000, n).tolist(), 2] for n in (3, 40, 7, 120, 300, 1, 62, 510)]
    together = run(tiny_ggufs["f32"], seqs)
    alone = np.concatenate([run(tiny_ggufs["f32"], [s]) for s in seqs])
    assert np.abs(together - alone).max() < 1e-4


def test_bad_sequences_raise_instead_of_crashing(tiny_ggufs):
    engine = llamacpp.open_engine(open_artifact(tiny_ggufs["f32"]), "cpu", 1)
    try:
        for bad in ([0] * 513, [], [0, 10**6, 2], [0, -1, 2]):
            with pytest.raises(ValueError):
                engine.logits([bad])
        assert engine.logits([[0, 5, 2]]).shape == (1, 2)
    finally:
        engine.close()


def test_concurrent_calls_share_one_engine(tiny_ggufs, tiny_reference):
    seqs, _ = tiny_reference
    engine = llamacpp.open_engine(open_artifact(tiny_ggufs["q8_0"]), "cpu", 1)
    expected = engine.logits(seqs)
    results = [None] * 4

    def work(i):
        results[i] = engine.logits(seqs)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.close()
    for r in results:
        np.testing.assert_allclose(r, expected, atol=1e-5)


def test_llama_cpp_logs_do_not_reach_stderr(tiny_ggufs, capfd):
    engine = llamacpp.open_engine(open_artifact(tiny_ggufs["f16"]), "cpu", 1)
    engine.logits([[0, 5, 2]])
    engine.close()
    assert "llama_model_loader" not in capfd.readouterr().err


def test_high_level_loader_accepts_the_file(tiny_ggufs):
    llm = llama_cpp.Llama(
        model_path=str(tiny_ggufs["q4_k_m"]),
        embedding=True,
        pooling_type=llama_cpp.LLAMA_POOLING_TYPE_RANK,
        n_ctx=64,
        verbose=False,
    )
    try:
        assert llama_cpp.llama_model_n_cls_out(llm.model) == 2
        assert llm.metadata["general.architecture"] == "bert"
    finally:
        llm.close()


def test_devices_and_missing_device(tiny_ggufs):
    available = llamacpp.devices()
    assert available[-1] == "cpu"
    for missing in ("cuda", "metal"):
        if missing not in available:
            with pytest.raises(DeviceError, match="available: .*cpu"):
                llamacpp.open_engine(open_artifact(tiny_ggufs["f32"]), missing)


@pytest.mark.parametrize(
    "device",
    [
        pytest.param("cuda", marks=pytest.mark.cuda("llamacpp")),
        pytest.param("metal", marks=pytest.mark.metal("llamacpp")),
    ],
)
def test_gpu_matches_cpu(device, tiny_ggufs, tiny_reference):
    seqs, reference = tiny_reference
    engine = llamacpp.open_engine(open_artifact(tiny_ggufs["f16"]), device)
    assert engine.info.device == device and engine.gpu_layers > 0
    logits = engine.logits(seqs)
    engine.close()
    assert np.abs(logits - reference).max() < 2e-2


def test_token_embeddings_read_on_demand_give_identical_logits(tiny_ggufs, tiny_reference):
    """The adapter drops the mapped token-embedding table from RSS after loading (Linux): the
    logits do not change and the file's resident pages shrink."""
    from crest_edge.runtimes.memory_pages import resident_bytes

    seqs, _ = tiny_reference
    path = tiny_ggufs["f32"]
    results, resident = {}, {}
    for lazy in (False, True):
        engine = llamacpp.open_engine(open_artifact(path), "cpu", 1, lazy_embeddings=lazy)
        try:
            resident[lazy] = resident_bytes(path)
            results[lazy] = engine.logits(seqs[:8])
        finally:
            engine.close()
    np.testing.assert_array_equal(results[True], results[False])
    if sys.platform.startswith("linux"):
        span = open_artifact(path).tensor_spans["token_embd.weight"]
        assert resident[True] < resident[False] - (span[1] - span[0]) * 0.9


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="page residency is read from /proc")
def test_unused_logits_buffer_is_given_back(tiny_ggufs, tiny_reference):
    """llama.cpp zero-fills n_vocab floats per token of a call it never writes for an encoder; the
    adapter hands those pages back, and the results of later calls do not change."""
    import ctypes

    from crest_edge.runtimes.memory_pages import present_pages

    seqs, reference = tiny_reference
    longest = max(seqs, key=len)
    engine = llamacpp.open_engine(open_artifact(tiny_ggufs["f32"]), "cpu", 1)
    try:
        first = engine.logits([longest])
        address = ctypes.cast(engine._llama.llama_get_logits(engine._ctx), ctypes.c_void_p).value
        size = len(longest) * engine._n_vocab * 4
        assert size > 64 * mmap.PAGESIZE
        assert present_pages(address, size) <= 2  # only the partial pages at either end may stay
        np.testing.assert_array_equal(engine.logits([longest]), first)
        np.testing.assert_array_equal(engine.logits(seqs[:4]), run(tiny_ggufs["f32"], seqs[:4]))
    finally:
        engine.close()


def test_packing_consecutive_sequences_changes_no_result(tiny_ggufs, tiny_reference):
    """Sequences packed into one llama_encode (masked from each other) give the logits they give
    alone, up to float rounding (other matrix shapes, other kernel tiles: ~1e-6 in f32; a quantized
    file re-quantizes the activations, so there the rounding can move a logit by quantization noise)."""
    seqs, reference = tiny_reference
    short = [s[:n] for s, n in zip(seqs * 3, [3, 17, 40, 5, 90, 12, 64, 2, 33, 128, 7, 300] * 3)]
    results = {}
    for budget in (0, 128, 512):
        engine = llamacpp.open_engine(open_artifact(tiny_ggufs["f32"]), "cpu", 1, pack_tokens=budget)
        try:
            results[budget] = engine.logits(short)
        finally:
            engine.close()
    np.testing.assert_allclose(results[128], results[0], atol=1e-5)
    np.testing.assert_allclose(results[512], results[0], atol=1e-5)


def test_packs_split_by_token_budget():
    arrays = [np.zeros(n, np.int32) for n in (60, 60, 10, 200, 5, 5)]
    packs = [(first, [len(a) for a in group]) for first, group in llamacpp._packs(arrays, 128)]
    assert packs == [(0, [60, 60]), (2, [10]), (3, [200]), (4, [5, 5])]
    assert [len(g) for _, g in llamacpp._packs(arrays, 0)] == [1] * 6
    singles = [np.zeros(1, np.int32)] * 300
    assert [len(g) for _, g in llamacpp._packs(singles, 10_000)] == [256, 44]


def test_pack_budget_beyond_the_context_is_capped(tiny_ggufs, tiny_reference):
    seqs, _ = tiny_reference
    many = [s[:200] for s in seqs[:6]] + [[0, 2]] * 300
    engine = llamacpp.open_engine(open_artifact(tiny_ggufs["q8_0"]), "cpu", 1, pack_tokens=100_000)
    try:
        packed = engine.logits(many)
    finally:
        engine.close()
    np.testing.assert_allclose(packed, run(tiny_ggufs["q8_0"], many), atol=0.05)


def _llama_embedding() -> str | None:
    return os.environ.get("CREST_EDGE_LLAMA_EMBEDDING") or shutil.which("llama-embedding")


@pytest.mark.skipif(
    _llama_embedding() is None,
    reason="llama.cpp's llama-embedding is not built here (set CREST_EDGE_LLAMA_EMBEDDING or put it on PATH)",
)
@pytest.mark.parametrize("quant", ["f32", "q4_k_m"])
def test_llama_embedding_tool_runs_the_file(tiny_ggufs, quant):
    """llama.cpp's own tool loads the file, reads its labels and tokenizer, and prints our logits."""
    text = "How do I bake bread?"
    done = subprocess.run(
        [
            _llama_embedding(),
            "-m",
            str(tiny_ggufs[quant]),
            "--pooling",
            "rank",
            "--embd-normalize",
            "-1",
            "-c",
            "512",
            "-b",
            "512",
            "-ub",
            "512",
            "--flash-attn",
            "off",
            "-p",
            text,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    scores = {
        m.group(2): float(m.group(1))
        for m in re.finditer(r"rerank score 0:\s*(\S+) \[(\w+)\]", done.stdout + done.stderr)
    }
    assert list(scores) == ["safe", "unsafe"]
    artifact = open_artifact(tiny_ggufs[quant])
    ids = [0, *artifact.tokenizer().encode(text), 2]
    ours = run(tiny_ggufs[quant], [ids])[0]
    np.testing.assert_allclose([scores["safe"], scores["unsafe"]], ours, atol=2e-3)  # it prints 3 decimals
