"""A sentencepiece model rewritten so that sentencepiece itself (onnxruntime-extensions'
SentencepieceTokenizer op) gives transformers' XLM-R ids on far more text.

sentencepiece and transformers read the same model differently (see crest_edge.tokenizer.xlmr).
Three of the differences can be folded into the model the op receives:

1. Grapheme clusters. tokenizers' `Precompiled` replaces a cluster shorter than 6 bytes by the
   replacement of its *shortest* prefix in the charsmap and drops the rest; sentencepiece takes the
   longest match. Every such cluster (a charsmap key plus one combining character) on a base below
   U+0800 (Latin, Greek, Cyrillic, Armenian, Hebrew, Arabic, ... where decomposed text occurs) gets
   its own charsmap entry with tokenizers' replacement, so the longest match is tokenizers' answer.
   Clusters on bases from U+0800 up (about 0.8 million more entries) are left out: they would grow
   the charsmap from 1.2 MB to ~6 MB for text that hardly occurs.
2. Whitespace. tokenizers splits words on every Unicode White_Space character; sentencepiece only
   on " ". Every White_Space character the charsmap keeps becomes " ".
3. `<mask>` in the text is an added token for transformers: it is appended as a user-defined piece,
   whose sentencepiece id (+1, the fairseq offset) is exactly the mask id.

sentencepiece has no way to build a charsmap from Python but its trainer, which compiles one from a
rule file (`normalization_rule_tsv`): the rules are the model's own entries plus the ones above, the
throwaway model trained on them is dropped and its charsmap kept.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from crest_edge.tokenizer.charsmap import PrecompiledCharsmap
from crest_edge.tokenizer.graphemes import grapheme_clusters
from crest_edge.tokenizer.vocab import MASK_TOKEN

CLUSTER_BASE_LIMIT = "\u0800"
TOKENIZERS_CLUSTER_BYTES = 6  # tokenizers looks a cluster up whole only below this length
# Rust char::is_whitespace (tokenizers' WhitespaceSplit), U+0020 itself left out
WHITE_SPACE = (
    "\t\n\x0b\x0c\r\x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
)
USER_DEFINED = 4  # sentencepiece ModelProto.SentencePiece.Type


def charsmap_entries(charsmap: PrecompiledCharsmap) -> dict[str, str]:
    """Every key -> replacement of a precompiled charsmap (a depth-first walk of its double array)."""
    units, normalized = charsmap._units, charsmap._normalized

    def offset(unit: int) -> int:
        return (unit >> 10) << ((unit & (1 << 9)) >> 6)

    entries: dict[str, str] = {}
    stack = [(offset(units[0]), b"")]
    while stack:
        pos, key = stack.pop()
        for byte in range(1, 256):
            child = pos ^ byte
            if child >= len(units) or units[child] & ((1 << 31) | 0xFF) != byte:
                continue
            below, longer = child ^ offset(units[child]), key + bytes([byte])
            if (units[child] >> 8) & 1:
                start = units[below] & ((1 << 31) - 1)
                end = normalized.find(b"\0", start)
                entries[longer.decode("utf-8")] = normalized[start : end if end >= 0 else None].decode("utf-8")
            stack.append((below, longer))
    return entries


def longest_match(charsmap: PrecompiledCharsmap, text: str) -> str:
    """sentencepiece's normalization of `text` by the charsmap alone (longest match at each position)."""
    data, out, pos = text.encode("utf-8"), [], 0
    while pos < len(data):
        found = charsmap.prefixes(data[pos:])
        if found:
            out.append(found[-1][1])
            pos += found[-1][0]
            continue
        end = pos + 1
        while end < len(data) and data[end] & 0xC0 == 0x80:
            end += 1
        out.append(data[pos:end].decode("utf-8"))
        pos = end
    return "".join(out)


def tokenizers_entries(charsmap: PrecompiledCharsmap, entries: dict[str, str]) -> dict[str, str]:
    """The entries tokenizers can ever apply, with tokenizers' replacement: every single character, and
    the multi-character keys that are one grapheme cluster under 6 bytes (it never looks longer keys
    up, e.g. the 9-byte Hangul jamo L+V+T compositions, nor keys that start inside a cluster)."""
    kept = {}
    for key, value in entries.items():
        if len(key) == 1:
            kept[key] = value
        elif (
            len(key.encode("utf-8")) < TOKENIZERS_CLUSTER_BYTES
            and len(grapheme_clusters(key)) == 1
            and len(grapheme_clusters("a" + key)) == 2
        ):
            kept[key] = charsmap.normalize(key)
    return kept


def cluster_rules(charsmap: PrecompiledCharsmap, entries: dict[str, str]) -> dict[str, str]:
    """cluster -> tokenizers' replacement, for each short cluster where the longest match disagrees."""
    extenders = [
        chr(c) for c in range(0x300, 0x10000) if not 0xD800 <= c <= 0xDFFF and len(grapheme_clusters("a" + chr(c))) == 1
    ]
    rules = {}
    for key in entries:
        size = len(key.encode("utf-8"))
        if key[0] >= CLUSTER_BASE_LIMIT or size > TOKENIZERS_CLUSTER_BYTES - 3:
            continue
        for mark in extenders:
            cluster = key + mark
            if len(cluster.encode("utf-8")) >= TOKENIZERS_CLUSTER_BYTES or len(grapheme_clusters(cluster)) != 1:
                continue
            wanted = charsmap.normalize(cluster)
            if wanted != longest_match(charsmap, cluster):
                rules[cluster] = wanted
    return rules


def compile_charsmap(rules: dict[str, str]) -> bytes:
    """A precompiled charsmap for `rules`, compiled by sentencepiece's trainer."""
    import sentencepiece
    from sentencepiece import sentencepiece_model_pb2

    def hexes(text: str) -> str:
        return " ".join(f"{ord(c):X}" for c in text)

    with tempfile.TemporaryDirectory(prefix="crest-edge-charsmap.") as work:
        tsv = Path(work) / "rules.tsv"
        tsv.write_text("".join(f"{hexes(k)}\t{hexes(v)}\n" for k, v in rules.items()), encoding="utf-8")
        model = io.BytesIO()
        sentencepiece.SentencePieceTrainer.train(
            sentence_iterator=iter(["ab ba ab"] * 4),
            model_writer=model,
            vocab_size=16,
            hard_vocab_limit=False,
            normalization_rule_tsv=str(tsv),
            bos_id=-1,
            eos_id=-1,
            minloglevel=2,
        )
    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(model.getvalue())
    return proto.normalizer_spec.precompiled_charsmap


def rewrite(model_bytes: bytes) -> tuple[bytes, dict]:
    """The sentencepiece model for the op, and what was changed (for the manifest)."""
    from sentencepiece import sentencepiece_model_pb2

    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(model_bytes)
    notes = {"dropped_entries": 0, "cluster_rules": 0, "whitespace_rules": 0, "mask_piece": False}
    if proto.normalizer_spec.precompiled_charsmap:
        charsmap = PrecompiledCharsmap(proto.normalizer_spec.precompiled_charsmap)
        entries = charsmap_entries(charsmap)
        kept = tokenizers_entries(charsmap, entries)
        clusters = cluster_rules(charsmap, entries)
        spaces = {c: " " for c in WHITE_SPACE if longest_match(charsmap, c) not in (" ", "")}
        proto.normalizer_spec.precompiled_charsmap = compile_charsmap({**kept, **clusters, **spaces})
        notes["dropped_entries"] = len(entries) - len(kept)
        proto.normalizer_spec.name = "crest_edge_tokenizers_exact"
        notes.update(cluster_rules=len(clusters), whitespace_rules=len(spaces))
    if MASK_TOKEN not in {p.piece for p in proto.pieces}:
        proto.pieces.add(piece=MASK_TOKEN, score=0.0, type=USER_DEFINED)
        notes["mask_piece"] = True
    return proto.SerializeToString(), notes
