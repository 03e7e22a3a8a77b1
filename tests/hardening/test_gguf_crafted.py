"""Row 4 of the hardening issue: crafted GGUF metadata (that llama.cpp aborts on, or scores nonsense
with) is refused in Python before llama.cpp opens the file, even with a consistent integrity record."""

import struct
import subprocess

import pytest
from hardening_helpers import PYTHON

from crest_edge import ArtifactError
from crest_edge.devtools.mutate import reseal
from crest_edge.formats.gguf_file import read_gguf_metadata, read_layout

# (key, struct format of its value, crafted value, what the refusal says)
CRAFTED = [
    ("bert.block_count", "<I", 0, "block_count is 0"),
    ("bert.block_count", "<I", 600, "block_count is 600"),
    ("bert.block_count", "<I", 3, "tensor blk.2"),
    ("bert.attention.layer_norm_epsilon", "<f", -1.0, "layer_norm_epsilon"),
    ("bert.attention.layer_norm_epsilon", "<f", float("nan"), "layer_norm_epsilon"),
    ("bert.attention.layer_norm_epsilon", "<f", float("inf"), "layer_norm_epsilon"),
    ("bert.attention.head_count", "<I", 3, "do not divide the width"),
    ("bert.attention.head_count", "<I", 0, "head_count is 0"),
    ("bert.embedding_length", "<I", 255, "expected"),
    ("bert.context_length", "<I", 1, "exceeds the context"),
    ("bert.feed_forward_length", "<I", 0, "feed_forward_length is 0"),
    ("bert.pooling_type", "<I", 1, "not rank pooling"),
    ("tokenizer.ggml.bos_token_id", "<I", 10**9, "outside the vocabulary"),
]


def craft(gguf, copy_of, key, fmt, value):
    """A copy of `gguf` with `key`'s (scalar) value overwritten in place, integrity record recomputed."""
    target = copy_of(gguf)
    start, end = read_layout(target).spans[key]
    size = struct.calcsize(fmt)
    with open(target, "r+b") as handle:
        handle.seek(end - size)
        handle.write(struct.pack(fmt, value))
    reseal(target)
    return target


@pytest.mark.parametrize("key, fmt, value, fragment", CRAFTED, ids=[f"{c[0]}={c[2]}" for c in CRAFTED])
def test_crafted_hyperparameter_is_refused_before_llama_cpp(engine_artifact, copy_of, key, fmt, value, fragment):
    crafted = craft(engine_artifact("llamacpp"), copy_of, key, fmt, value)
    with pytest.raises(ArtifactError, match="not a usable crest-edge GGUF") as caught:
        read_gguf_metadata(crafted)
    assert fragment in str(caught.value)


def test_crafted_file_ends_in_one_line_not_an_abort(engine_artifact, copy_of):
    """In a fresh process, as a user runs it: the file llama.cpp would SIGABRT on."""
    crafted = craft(engine_artifact("llamacpp"), copy_of, "bert.block_count", "<I", 0)
    done = subprocess.run(
        [PYTHON, "-m", "crest_edge.cli", "classify", "--model", str(crafted), "hello"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr
    assert done.stderr.count("\n") == 1 and "block_count is 0" in done.stderr
