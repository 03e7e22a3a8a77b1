"""Hand memory pages back to the kernel where an engine holds more than it will read.

`read_on_demand`: a byte range of a memory-mapped file is read page by page, when touched, instead
of being held whole.

llama.cpp maps a GGUF with MAP_POPULATE, so every page of the file counts in the process's RSS from
the moment it loads. For XLM-R that includes the token-embedding table (157 MB of a 224 MB q4_k_m
base file), of which a call reads only its own tokens' rows (630 bytes each). `read_on_demand`:

1. MADV_RANDOM on the range: no read-ahead around a fault;
2. MADV_DONTNEED: the range leaves this process's RSS (the mapping stays valid);
3. POSIX_FADV_DONTNEED: the kernel drops those file pages from its page cache if no one else maps
   them. Without this, the page cache keeps the file in 2 MB folios and a fault on one row maps
   the whole 2 MB (measured: one 64-token call brought back 76 MB; with it, 0.3 MB).

A later fault reads one 4 KB page from the file. The mappings are shared and read-only, so no data
can be lost: this only trades a page fault on a row's first use for the memory.

`discard`: anonymous memory whose contents nobody will read (llama.cpp's logits buffer, which it
zero-fills and an encoder never writes) is given back; its pages read as zeros afterwards.

Linux only (Android included); elsewhere nothing is done.
"""

from __future__ import annotations

import ctypes
import functools
import mmap
import os
import sys
from pathlib import Path

MADV_RANDOM, MADV_DONTNEED = 1, 4  # Linux


def read_on_demand(path, start: int, end: int) -> int:
    """Make file bytes [start, end) of every read-only shared mapping of `path` in this process
    resident only where touched (see the module docstring). Returns the bytes released from RSS's
    reach (0 when the file is not mapped, or not on Linux)."""
    if not sys.platform.startswith("linux") or end <= start:
        return 0
    try:
        mappings = _mappings_of(path)
    except OSError:
        return 0
    advised = _advise(mappings, start, end, MADV_RANDOM) and _advise(mappings, start, end, MADV_DONTNEED)
    if advised:
        try:
            descriptor = os.open(path, os.O_RDONLY)
            try:
                os.fdatasync(descriptor)  # a freshly written file's dirty pages would stay cached
                os.posix_fadvise(descriptor, start, end - start, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(descriptor)
        except OSError:
            pass  # the pages then come back in the page cache's folios: more RSS, same results
    return advised


def discard(address: int, size: int) -> int:
    """Give back the whole pages inside [address, address + size); they read as zeros afterwards.
    Only for memory whose contents nobody reads. Returns the bytes given back."""
    if not sys.platform.startswith("linux") or not address or size <= 0:
        return 0
    return _madvise(address, address + size, MADV_DONTNEED)


def _advise(mappings, start: int, end: int, advice: int) -> int:
    advised = 0
    for low, high, file_offset in mappings:
        # the part of [start, end) this mapping covers
        first = max(start, file_offset)
        last = min(end, file_offset + (high - low))
        if last > first:
            advised += _madvise(low + (first - file_offset), low + (last - file_offset), advice)
    return advised


def _madvise(begin: int, end: int, advice: int) -> int:
    """madvise the whole pages inside [begin, end): the partial pages at either end may hold other
    data (an allocator's chunk header, a neighbouring tensor), so they are left alone."""
    page = mmap.PAGESIZE
    aligned = -(-begin // page) * page
    length = (end - aligned) // page * page
    if length <= 0:
        return 0
    return length if _libc_madvise()(aligned, length, advice) == 0 else 0


@functools.cache
def _libc_madvise():
    madvise = ctypes.CDLL(None, use_errno=True).madvise
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    return madvise


def _mappings_of(path) -> list[tuple[int, int, int]]:
    """(start address, end address, file offset) of the read-only shared mappings of one file."""
    info = os.stat(path)
    name = str(Path(path).resolve())
    found = []
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split(maxsplit=5)
            if len(fields) < 6 or fields[4] != str(info.st_ino) or fields[1] != "r--s":
                continue
            major, minor = (int(part, 16) for part in fields[3].split(":"))
            # overlay file systems may show another device number than stat(): the name decides then
            if os.makedev(major, minor) != info.st_dev and fields[5].strip() != name:
                continue
            low, high = (int(part, 16) for part in fields[0].split("-"))
            found.append((low, high, int(fields[2], 16)))
    return found


def resident_bytes(path) -> int:
    """Resident bytes of this process's mappings of `path` (from /proc/self/smaps; 0 elsewhere)."""
    if not sys.platform.startswith("linux"):
        return 0
    target = str(Path(path).resolve())
    total, inside = 0, False
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            head = line.split(maxsplit=5)
            if "-" in head[0] and len(head) >= 5 and ":" in head[3]:
                inside = len(head) == 6 and head[5].strip() == target
            elif inside and head[0] == "Rss:":
                total += int(head[1]) * 1024
    return total


def present_pages(address: int, size: int) -> int:
    """How many pages of [address, address + size) are mapped in this process (/proc/self/pagemap)."""
    page = mmap.PAGESIZE
    first, last = address // page, -(-(address + size) // page)
    with open("/proc/self/pagemap", "rb") as pagemap:
        pagemap.seek(first * 8)
        raw = pagemap.read((last - first) * 8)
    return sum(entry >> 63 for entry in memoryview(raw).cast("Q"))
