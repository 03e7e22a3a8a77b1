"""Reading a crest-edge .gguf file: its manifest and tokenizer, a check that it is whole, and an update
of its manifest.

The header is parsed here, in Python, so a cut-off or corrupt file raises ArtifactError naming it
before llama.cpp (which may crash on such files) ever opens it.
"""

from __future__ import annotations

import dataclasses
import functools
import mmap
import os
import shutil
import struct
from pathlib import Path

from ..errors import ArtifactError
from ..extras import require
from .gguf import LABELS_KEY, MANIFEST_KEY, SENTENCEPIECE_KEY
from .manifest import Manifest

_MAGIC = b"GGUF"
_LIMIT = 1 << 32  # no honest count in a header comes near this


class _Corrupt(Exception):
    pass


@dataclasses.dataclass
class Layout:
    values: dict  # decoded values of the keys asked for
    spans: dict  # key -> (start, end) byte range of its whole entry
    tensors: dict  # name -> (ggml dims, innermost first; ggml type id)
    tensor_spans: dict  # name -> (start, end) byte range of its data in the file
    info_end: int  # end of the tensor infos
    data_start: int
    alignment: int
    counts: dict = dataclasses.field(default_factory=dict)  # array key -> number of items
    # string-array key -> how many items repeat an earlier one (llama.cpp aborts on a repeated token)
    repeats: dict = dataclasses.field(default_factory=dict)


def _gguf():
    return require("gguf", "reading GGUF files")


@functools.cache
def _scalar_formats() -> dict[int, str]:
    """struct format of each scalar gguf.GGUFValueType."""
    t = _gguf().GGUFValueType
    return {
        t.UINT8: "<B",
        t.INT8: "<b",
        t.UINT16: "<H",
        t.INT16: "<h",
        t.UINT32: "<I",
        t.INT32: "<i",
        t.FLOAT32: "<f",
        t.BOOL: "<?",
        t.UINT64: "<Q",
        t.INT64: "<q",
        t.FLOAT64: "<d",
    }


class _Reader:
    """Reads a GGUF header from the file's bytes (a read-only map), refusing to run past their end."""

    def __init__(self, data, size: int):
        self.data, self.size, self.pos = data, size, 0
        self.scalars, self.types = _scalar_formats(), _gguf().GGUFValueType

    def take(self, n: int, keep: bool = True) -> bytes:
        if self.pos + n > self.size:
            raise _Corrupt(f"header runs past the end of the file at byte {self.pos}")
        start = self.pos
        self.pos += n
        return self.data[start : self.pos] if keep else b""

    def scalar(self, fmt: str):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def count(self) -> int:
        n = self.scalar("<Q")
        if n > _LIMIT:
            raise _Corrupt(f"implausible count {n} at byte {self.pos - 8}")
        return n

    def string(self) -> bytes:
        return self.take(self.count())

    def skip_strings(self, n: int) -> None:
        """Step over `n` strings (a 250k-token vocabulary): one tight loop, nothing decoded."""
        data, size, pos, unpack = self.data, self.size, self.pos, struct.unpack_from
        seen = set()
        for _ in range(n):
            if pos + 8 > size:
                raise _Corrupt(f"header runs past the end of the file at byte {pos}")
            length = unpack("<Q", data, pos)[0]
            if length > _LIMIT or pos + 8 + length > size:
                raise _Corrupt(f"implausible count {length} at byte {pos}")
            # llama.cpp reads a token as a C string: what follows a NUL is not part of it
            seen.add(data[pos + 8 : pos + 8 + length].split(b"\0", 1)[0])
            pos += 8 + length
        self.pos = pos
        self.last_repeats = n - len(seen)

    def value(self, vtype: int, keep: bool):
        """The value of type `vtype`, decoded if `keep`, else skipped (None)."""
        scalars, types = self.scalars, self.types
        if vtype in scalars:
            return self.scalar(scalars[vtype])
        if vtype == types.STRING:
            raw = self.take(self.count(), keep)
            return raw.decode("utf-8", "replace") if keep else None
        if vtype != types.ARRAY:
            raise _Corrupt(f"unknown value type {vtype} at byte {self.pos - 4}")
        item, n = self.scalar("<I"), self.count()
        self.last_count = n
        if item in scalars:
            raw = self.take(n * struct.calcsize(scalars[item]), keep)
            if not keep:
                return None
            return raw if item == types.UINT8 else list(struct.unpack(f"<{n}{scalars[item][1]}", raw))
        if item == types.STRING and not keep:
            self.skip_strings(n)
            return None
        items = [self.value(item, keep) for _ in range(n)]
        return items if keep else None


def read_layout(path: Path, keys=()) -> Layout:
    """Parse the header of GGUF file `path`, decode `keys`, and check all tensor data is there."""
    sizes = _gguf().GGML_QUANT_SIZES
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size == 0:
                raise _Corrupt("no GGUF magic")
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
                return _parse(_Reader(data, size), set(keys), sizes)
    except _Corrupt as exc:
        raise ArtifactError(f"{path}: truncated or corrupt GGUF file ({exc})") from None
    except OSError as exc:
        raise ArtifactError(f"{path}: unreadable ({exc})") from None


def _parse(r: _Reader, keys: set, sizes) -> Layout:
    if r.take(4) != _MAGIC:
        raise _Corrupt("no GGUF magic")
    version = r.scalar("<I")
    if version not in (2, 3):
        raise _Corrupt(f"unsupported GGUF version {version}")
    n_tensors, n_kv = r.count(), r.count()
    values, spans, counts, repeats = {}, {}, {}, {}
    for _ in range(n_kv):
        start = r.pos
        key = r.string().decode("utf-8", "replace")
        if key in spans:
            raise _Corrupt(f"key {key} appears twice")
        r.last_count = r.last_repeats = None
        value = r.value(r.scalar("<I"), key in keys or key == "general.alignment")
        spans[key] = (start, r.pos)
        if r.last_count is not None:
            counts[key] = r.last_count
        if r.last_repeats:
            repeats[key] = r.last_repeats
        if value is not None:
            values[key] = value
    alignment = int(values.get("general.alignment", 32))
    if alignment <= 0 or alignment & (alignment - 1):
        raise _Corrupt(f"bad alignment {alignment}")
    tensors, names = [], set()
    for _ in range(n_tensors):
        name = r.string().decode("utf-8", "replace")
        n_dims = r.scalar("<I")
        if n_dims > 4:
            raise _Corrupt(f"tensor {name} has {n_dims} dimensions")
        dims = [r.scalar("<Q") for _ in range(n_dims)]
        tensors.append((name, dims, r.scalar("<I"), r.scalar("<Q")))
        if name in names:
            raise _Corrupt(f"tensor {name} appears twice")
        names.add(name)
        if tensors[-1][3] % alignment:
            raise _Corrupt(f"tensor {name} starts at offset {tensors[-1][3]}, not a multiple of {alignment}")
    info_end = r.pos
    data_start = info_end + (-info_end % alignment)
    tensor_spans = {}
    for name, dims, ggml_type, offset in tensors:
        if ggml_type not in sizes:
            raise _Corrupt(f"tensor {name} has unknown type {ggml_type}")
        block, type_size = sizes[ggml_type]
        elements = 1
        for d in dims:
            elements *= d
        end = data_start + offset + elements // block * type_size
        if end > r.size:
            raise _Corrupt(f"tensor {name} ends at byte {end}, past the end of the {r.size}-byte file")
        tensor_spans[name] = (data_start + offset, end)
    infos = {name: (dims, ggml_type) for name, dims, ggml_type, _ in tensors}
    return Layout(
        {k: v for k, v in values.items() if k in keys},
        spans,
        infos,
        tensor_spans,
        info_end,
        data_start,
        alignment,
        counts,
        repeats,
    )


@dataclasses.dataclass
class GgufContents:
    manifest: Manifest
    sentencepiece: bytes  # the raw sentencepiece model
    tensor_spans: dict  # tensor name -> (start, end) byte range of its data
    layout: Layout


def content_ranges(layout: Layout, size: int) -> list[tuple[int, int]]:
    """The bytes a .gguf's integrity digest covers: all but its manifest entry and the padding after the
    header (both change when the manifest is updated; nothing in them is read by llama.cpp)."""
    start, end = layout.spans[MANIFEST_KEY]
    return [(0, start), (end, layout.info_end), (layout.data_start, size)]


def read_gguf_metadata(path) -> GgufContents:
    """The manifest and sentencepiece model a crest-edge .gguf carries, and where its tensors lie."""
    path = Path(path)
    from . import gguf_check

    layout = read_layout(path, (MANIFEST_KEY, SENTENCEPIECE_KEY, LABELS_KEY, *gguf_check.keys()))
    values = layout.values
    if not isinstance(values.get(MANIFEST_KEY), str):
        raise ArtifactError(
            f"{path}: not a crest-edge GGUF (no {MANIFEST_KEY} metadata); "
            "make one with `crest-edge convert CHECKPOINT --to gguf`"
        )
    manifest = Manifest.from_json(values[MANIFEST_KEY], str(path))
    if manifest.format != "gguf":
        raise ArtifactError(f"{path}: its manifest says format {manifest.format!r}, expected 'gguf'")
    sp_bytes = values.get(SENTENCEPIECE_KEY)
    if not isinstance(sp_bytes, bytes) or not sp_bytes:
        raise ArtifactError(f"{path}: no sentencepiece model ({SENTENCEPIECE_KEY} as a uint8 array)")
    if values.get(LABELS_KEY) != list(manifest.labels):
        raise ArtifactError(
            f"{path}: classifier labels {values.get(LABELS_KEY)} disagree with the manifest's {manifest.labels}"
        )
    gguf_check.check_model(path, layout, manifest)
    return GgufContents(manifest, sp_bytes, layout.tensor_spans, layout)


def verify_gguf(path, contents: GgufContents, mode: str = "full") -> None:
    from .integrity import GGUF_CONTENT, verify

    path = Path(path)
    ranges = content_ranges(contents.layout, path.stat().st_size)
    verify(contents.manifest, str(path), {GGUF_CONTENT: (path, ranges)}, mode)


def seal_gguf(path) -> None:
    """Record the file's content digest in its manifest (the last step of writing a crest-edge .gguf)."""
    from .integrity import GGUF_CONTENT, digest_ranges, seal

    path = Path(path)
    contents = read_gguf_metadata(path)
    manifest = contents.manifest
    seal(manifest, {GGUF_CONTENT: digest_ranges(path, content_ranges(contents.layout, path.stat().st_size))})
    update_gguf_manifest(path, manifest)


def update_gguf_manifest(path, manifest: Manifest) -> None:
    """Replace the manifest stored in crest-edge .gguf `path` (e.g. to record measured parity).

    The header changes length, so the file is rewritten beside itself and swapped in atomically.
    """
    path = Path(path)
    read_gguf_metadata(path)  # a whole, crest-edge file
    layout = read_layout(path)
    start, end = layout.spans[MANIFEST_KEY]
    key, text = MANIFEST_KEY.encode(), manifest.to_json().encode("utf-8")
    entry = struct.pack("<Q", len(key)) + key + struct.pack("<IQ", _gguf().GGUFValueType.STRING, len(text)) + text
    temp = path.with_name(f".{path.name}.tmp")
    try:
        with open(path, "rb") as src, open(temp, "wb") as dst:
            header = src.read(layout.info_end)
            header = header[:start] + entry + header[end:]
            dst.write(header + b"\0" * (-len(header) % layout.alignment))
            src.seek(layout.data_start)
            shutil.copyfileobj(src, dst, 16 << 20)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
