"""Reading a mapped byte range on demand: RSS goes down, the bytes stay the same."""

import mmap
import os
import sys

import numpy as np
import pytest

from crest_edge.runtimes.memory_pages import read_on_demand, resident_bytes

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="madvise/fadvise paths are Linux-only")


def test_mapped_range_leaves_rss_and_reads_back_the_same(tmp_path):
    path = tmp_path / "weights.bin"
    data = np.random.default_rng(0).integers(0, 255, 16 << 20, dtype=np.uint8)
    with open(path, "wb") as out:
        out.write(data.tobytes())
        out.flush()
        os.fsync(out.fileno())  # dirty pages cannot leave the page cache
    with open(path, "rb") as handle:
        mapped = mmap.mmap(handle.fileno(), 0, prot=mmap.PROT_READ)
        view = np.frombuffer(mapped, dtype=np.uint8)  # the mapping lives as long as the view
        assert int(view.sum(dtype=np.int64)) == int(data.sum(dtype=np.int64))  # touch every page
        before = resident_bytes(path)
        assert before >= 15 << 20

        start, end = 1 << 20, 15 << 20
        released = read_on_demand(path, start, end)
        assert released >= (end - start) - 2 * mmap.PAGESIZE
        assert resident_bytes(path) <= before - released + mmap.PAGESIZE

        rows = np.arange(start, end, 1 << 16)
        assert np.array_equal(view[rows], data[rows])  # the pages come back with their bytes
        assert resident_bytes(path) < before - (8 << 20)  # and only the touched ones
        assert np.array_equal(view, data)


def test_unmapped_file_and_empty_range_are_no_ops(tmp_path):
    path = tmp_path / "plain.bin"
    path.write_bytes(b"x" * 8192)
    assert read_on_demand(path, 0, 8192) == 0
    assert read_on_demand(tmp_path / "missing.bin", 0, 10) == 0
    assert read_on_demand(path, 100, 100) == 0
