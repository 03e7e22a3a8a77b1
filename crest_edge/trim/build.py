"""Write a trimmed Hugging Face checkpoint: same architecture and head, fewer vocabulary rows.

The sentencepiece model is rewritten with the kept pieces in their original order (ids renumbered),
and the word-embedding rows are taken in the same order through the fairseq layout: rows 0-3 are
`<s> <pad> </s> <unk>`, row sentencepiece id + 1 for every other piece, `<mask>` last.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

from ..data import read_jsonl
from ..errors import ConversionError, CrestEdgeError, MissingExtraError
from ..formats import xlmr
from ..formats.checkpoint import open_checkpoint, write_safetensors
from ..formats.manifest import sha256_file
from ..formats.outputs import SYNTH_MARK, check_output
from ..tokenizer import FAIRSEQ_OFFSET, SPECIAL_TOKENS, SPM_FILE, XLMRTokenizer
from ..tokenizer.proto import CONTROL, UNKNOWN
from . import scripts
from .record import TRIM_FILE, write_trim_record
from .select import Ranges, choose_pieces

COPIED_FILES = ("tokenizer_config.json", "special_tokens_map.json")  # never tokenizer.json: it would be stale
FREQUENCIES = "the source model's own sentencepiece scores (unigram log-probabilities); no external data"


@dataclasses.dataclass
class TrimResult:
    path: Path
    record: dict
    rows: np.ndarray  # new row i = source row rows[i]
    parameters_before: int
    parameters_after: int


def read_corpus_texts(path) -> list[str]:
    """A corpus file's texts: the `text` field of each JSONL row, or each non-empty line of a text file."""
    path = Path(path)
    if path.suffix == ".jsonl":
        return [row["text"] for row in read_jsonl(path)]
    try:
        return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except FileNotFoundError:
        raise CrestEdgeError(f"{path}: no such file") from None
    except (UnicodeDecodeError, OSError) as exc:
        raise CrestEdgeError(f"{path}: cannot be read as UTF-8 text ({exc})") from None


def _is_trimmed(path: Path) -> bool:
    return (path / TRIM_FILE).is_file()


def trim(src, out, languages=(), corpora=(), keep: int = 0, min_count: int = 1, force: bool = False) -> TrimResult:
    """Trim checkpoint `src` to the vocabulary of `languages` (codes or pack names) and/or `corpora`
    (see crest_edge.trim.select); write it to `out` and return what was done."""
    model_pb2 = _model_pb2()
    problems = []
    if not languages and not corpora:
        problems.append("give --languages or --corpus (or both): they decide which pieces stay")
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 0:
        problems.append(f"--keep must be a whole number >= 0, got {keep!r}")
    if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 1:
        problems.append(f"--min-count must be a whole number >= 1, got {min_count!r}")
    if problems:
        raise ConversionError(problems)
    out = check_output(out, force, "a trimmed checkpoint", _is_trimmed, (src,))
    checkpoint = open_checkpoint(src)
    sp_path = checkpoint.path / SPM_FILE
    if not sp_path.is_file():
        raise ConversionError(f"{checkpoint.path}: no {SPM_FILE}; trimming rewrites the sentencepiece model")
    proto = model_pb2.ModelProto()
    try:
        proto.ParseFromString(sp_path.read_bytes())
    except Exception as exc:  # protobuf's DecodeError and friends
        raise ConversionError(f"{sp_path}: not a sentencepiece model ({exc})") from None
    pieces = [p.piece for p in proto.pieces]
    types = [p.type for p in proto.pieces]
    n = len(pieces)
    vocab_size = int(checkpoint.config["vocab_size"])
    if n < 4 or types[:3] != [UNKNOWN, CONTROL, CONTROL]:
        raise ConversionError(f"{sp_path}: sentencepiece ids 0/1/2 are not <unk>/<s>/</s> as XLM-R's are")
    if n + 2 > vocab_size:
        raise ConversionError(f"{sp_path}: {n} pieces do not fit the config's vocab_size {vocab_size}")

    codes = scripts.expand_languages(languages) if languages else []
    whole = scripts.scripts_of(codes)
    texts = [t for path in corpora for t in read_corpus_texts(path)]
    if corpora and not texts:
        raise ConversionError(f"no texts in {', '.join(map(str, corpora))}")
    served = [s for s in scripts.KNOWN_SCRIPTS if s in {*whole, *scripts.scripts_in(texts)}]
    served_ranges = scripts.script_ranges(served)
    counts = _piece_counts(XLMRTokenizer.from_file(sp_path), texts) if texts else None
    kept, tally = choose_pieces(
        pieces,
        [p.score for p in proto.pieces],
        types,
        whole_scripts=Ranges(scripts.script_ranges(whole)) if codes else None,
        served=Ranges(served_ranges),
        counts=counts,
        min_count=min_count,
        keep=keep,
    )
    if kept[:3] != [0, 1, 2]:
        raise ConversionError(f"{sp_path}: the special pieces were not kept")  # cannot happen: they are not NORMAL

    trimmed = model_pb2.ModelProto()
    trimmed.CopyFrom(proto)
    del trimmed.pieces[:]
    trimmed.pieces.extend(proto.pieces[i] for i in kept)
    trimmed.trainer_spec.vocab_size = len(kept)
    sp_bytes = trimmed.SerializeToString(deterministic=True)
    _check_loads(sp_bytes)

    mask_row = n + FAIRSEQ_OFFSET
    rows = np.array([*range(len(SPECIAL_TOKENS)), *(i + FAIRSEQ_OFFSET for i in kept[3:]), mask_row])
    tensors = checkpoint.validated_tensors()
    name = f"{xlmr.WORD_EMBEDDINGS}.weight"
    before = sum(int(t.size) for t in tensors.values())
    tensors[name] = np.ascontiguousarray(tensors[name][rows])
    after = sum(int(t.size) for t in tensors.values())
    config = {k: v for k, v in checkpoint.config.items() if k != SYNTH_MARK}
    config["vocab_size"] = len(rows)

    record = {
        "languages": codes,
        "scripts": served,
        "sources": [s for s, used in (("script", bool(codes)), ("corpus", bool(texts)), ("keep", keep > 0)) if used],
        "keep": keep,
        "min_count": min_count,
        "corpora": [{"name": Path(p).name, "sha256": sha256_file(Path(p))} for p in corpora],
        "frequencies": FREQUENCIES,
        "pieces_before": n,
        "pieces_kept": len(kept),
        "selected_by": tally,
        "source_sha256": checkpoint.sha256(),
        "served_ranges": served_ranges,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        built = staging / out.name
        built.mkdir()
        (built / SPM_FILE).write_bytes(sp_bytes)
        (built / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
        write_safetensors(built / "model.safetensors", tensors)
        for extra in COPIED_FILES:
            if (checkpoint.path / extra).is_file():
                shutil.copyfile(checkpoint.path / extra, built / extra)
        write_trim_record(built, record)
        if out.exists():
            shutil.rmtree(out)
        built.rename(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return TrimResult(out, record, rows, before, after)


def _piece_counts(tokenizer: XLMRTokenizer, texts: list[str]) -> Counter:
    """How often the untrimmed tokenizer uses each sentencepiece index on `texts`."""
    counts: Counter = Counter()
    for ids in tokenizer.encode_batch(texts):
        counts.update(i - FAIRSEQ_OFFSET for i in ids if len(SPECIAL_TOKENS) <= i < tokenizer.mask_id)
    return counts


def _model_pb2():
    try:
        from sentencepiece import sentencepiece_model_pb2
    except ImportError as exc:  # the module needs protobuf, which sentencepiece does not install
        raise MissingExtraError(
            f"rewriting the sentencepiece model needs protobuf: pip install 'crest-edge[trim]' ({exc})"
        ) from None
    return sentencepiece_model_pb2


def _check_loads(data: bytes) -> None:
    import sentencepiece as spm

    processor = spm.SentencePieceProcessor()
    try:
        processor.LoadFromSerializedProto(data)
    except Exception as exc:  # would be a bug in the rewrite
        raise ConversionError(f"the trimmed sentencepiece model does not load: {exc}") from None
