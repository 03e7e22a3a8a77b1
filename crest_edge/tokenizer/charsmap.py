"""sentencepiece's precompiled charsmap, applied the way tokenizers' `Precompiled` normalizer does,
and just enough of the model proto to get at it. Standard library only.

The normalizer transformers builds from `sentencepiece.bpe.model` is `Precompiled(charsmap)`: the
model's own nmt_nfkc map, but applied the `tokenizers` way: it walks extended grapheme clusters
(UAX #29, Unicode 16 in tokenizers 0.23; see `graphemes`); a cluster shorter than 6 UTF-8 bytes that
has *any* prefix in the map becomes the replacement of its *shortest* such prefix, the rest of the
cluster being dropped (U+FB01 U+0301 -> "fi"; "e" U+0301 U+0323 -> U+00E9); any other cluster is
mapped character by character, so longer clusters are never composed (U+1100 U+1161 stays two jamo).
sentencepiece applies the longest match at each position instead.

The charsmap (a darts-clone double array) is read directly.
"""

from __future__ import annotations

import struct

from .graphemes import graphemes


class PrecompiledCharsmap:
    """A darts-clone double array (keys: UTF-8 strings) plus the NUL-separated replacement strings."""

    def __init__(self, blob: bytes):
        if len(blob) < 4:
            raise ValueError("precompiled charsmap too short")
        size = int.from_bytes(blob[:4], "little")
        if size % 4 or 4 + size > len(blob):
            raise ValueError("precompiled charsmap: bad trie size")
        self._units = list(struct.unpack_from(f"<{size // 4}I", blob, 4))
        self._normalized = blob[4 + size :]
        self._chars = _CharTable(self)

    def prefixes(self, key: bytes) -> list[tuple[int, str]]:
        """(byte length, replacement) of every key that is a prefix of `key`, shortest first."""
        units, out = self._units, []
        if not units:
            return out
        pos = (units[0] >> 10) << ((units[0] & (1 << 9)) >> 6)
        for i, byte in enumerate(key):
            pos ^= byte
            if pos >= len(units):
                break
            unit = units[pos]
            if unit & ((1 << 31) | 0xFF) != byte:
                break
            pos ^= (unit >> 10) << ((unit & (1 << 9)) >> 6)
            if (unit >> 8) & 1:
                start = units[pos] & ((1 << 31) - 1)
                end = self._normalized.find(b"\0", start)
                out.append((i + 1, self._normalized[start : end if end >= 0 else None].decode("utf-8")))
        return out

    def normalize(self, text: str) -> str:
        """tokenizers' `Precompiled.normalize` (see module docstring)."""
        table = self._chars
        g = graphemes()
        letters = text.translate(g.categories)
        out, last = [], 0
        for region in g.region.finditer(letters):
            start, end = region.span()
            if start > last:
                start -= 1  # the plain character the run glues to
                out.append(text[last:start].translate(table))
            last = end
            if text[start] >= "\u0800" and min(text[start:end]) >= "\u0800":
                # every multi-character cluster here is >= 6 bytes long: mapped char by char
                out.append(text[start:end].translate(table))
                continue
            for m in g.cluster.finditer(letters, start, end):
                cluster = text[m.start() : m.end()]
                if len(cluster) > 1:
                    data = cluster.encode("utf-8")
                    if len(data) < 6:
                        found = self.prefixes(data)
                        if found:
                            out.append(found[0][1])
                            continue
                out.append(cluster.translate(table))
        if not out:
            return text.translate(table)
        if last < len(text):
            out.append(text[last:].translate(table))
        return "".join(out)


class _CharTable(dict):
    """str.translate table of single-character keys, filled lazily from the trie."""

    def __init__(self, charsmap: PrecompiledCharsmap):
        super().__init__()
        self._charsmap = charsmap

    def __missing__(self, code: int):
        char = chr(code)
        data = char.encode("utf-8")
        value: int | str = code
        for length, replacement in self._charsmap.prefixes(data):
            if length == len(data):
                value = replacement
        self[code] = value
        return value
