"""Every hyperparameter and tensor shape of a crest-edge .gguf checked before llama.cpp sees the file.

llama.cpp asserts on much of what it reads (a zero block count, a head count that does not divide
the width, a negative or NaN LayerNorm epsilon abort the process), and an infinite epsilon loads and
scores 0.5 for everything. A file that passes here has the XLM-R `bert` layout llama.cpp expects,
with shapes that agree with each other, with the manifest and with the classifier labels.
"""

from __future__ import annotations

import functools
import math

from ..errors import ArtifactError
from ..extras import require
from . import gguf as fmt


@functools.cache
def _names():
    """The metadata keys checked, by gguf-py's own names."""
    keys = require("gguf", "reading GGUF files").Keys
    llm, att, tok = keys.LLM, keys.Attention, keys.Tokenizer
    arch = {
        "blocks": llm.BLOCK_COUNT,
        "context": llm.CONTEXT_LENGTH,
        "hidden": llm.EMBEDDING_LENGTH,
        "ffn": llm.FEED_FORWARD_LENGTH,
        "heads": att.HEAD_COUNT,
        "eps": att.LAYERNORM_EPS,
        "pooling": llm.POOLING_TYPE,
        "causal": att.CAUSAL,
    }
    return {
        "arch": {name: key.format(arch=fmt.ARCH) for name, key in arch.items()},
        "arrays": (tok.LIST, tok.SCORES, tok.TOKEN_TYPE),
        "ids": (tok.BOS_ID, tok.EOS_ID, tok.UNK_ID, tok.SEP_ID, tok.PAD_ID, tok.MASK_ID),
        "charsmap": tok.PRECOMPILED_CHARSMAP,
        "architecture": keys.General.ARCHITECTURE,
    }


def keys() -> tuple[str, ...]:
    """The metadata keys check_model needs decoded."""
    n = _names()
    return (n["architecture"], *n["arch"].values(), *n["ids"], n["charsmap"])


MAX_BLOCKS, MAX_WIDTH, MAX_CONTEXT = 256, 1 << 16, 1 << 16
POOLING_RANK = 4  # gguf.PoolingType.RANK: the classification head


def check_model(path, layout, manifest) -> None:
    """ArtifactError listing every way the file's model disagrees with itself, its manifest or llama.cpp."""
    problems = _problems(layout, manifest)
    if problems:
        raise ArtifactError(f"{path}: not a usable crest-edge GGUF: " + "; ".join(problems[:8]))


def _problems(layout, manifest) -> list[str]:
    values, problems = layout.values, []
    names = _names()
    ARCH_KEYS, TOKEN_ARRAYS, TOKEN_IDS = names["arch"], names["arrays"], names["ids"]  # noqa: N806
    if values.get(names["architecture"]) != fmt.ARCH:
        return [f"architecture is {values.get(names['architecture'])!r}, expected {fmt.ARCH!r}"]
    h = {}
    for name in ("blocks", "context", "hidden", "ffn", "heads", "pooling"):
        value = values.get(ARCH_KEYS[name])
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"{ARCH_KEYS[name]} is {value!r}, not an integer")
        h[name] = value
    eps = values.get(ARCH_KEYS["eps"])
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not math.isfinite(eps) or not 0 < eps < 1:
        problems.append(f"{ARCH_KEYS['eps']} is {eps!r}, not a small positive number")
    if values.get(ARCH_KEYS["causal"]) is not False:
        problems.append(f"{ARCH_KEYS['causal']} must be false (an encoder attends both ways)")
    if problems:
        return problems
    limits = {
        "blocks": MAX_BLOCKS,
        "hidden": MAX_WIDTH,
        "ffn": 4 * MAX_WIDTH,
        "heads": MAX_WIDTH,
        "context": MAX_CONTEXT,
    }
    problems += [f"{ARCH_KEYS[k]} is {h[k]}, outside 1..{top}" for k, top in limits.items() if not 1 <= h[k] <= top]
    if h["pooling"] != POOLING_RANK:
        problems.append(f"{ARCH_KEYS['pooling']} is {h['pooling']}, not rank pooling (the classification head)")
    if problems:
        return problems
    if h["hidden"] % h["heads"]:
        problems.append(f"{h['heads']} attention heads do not divide the width {h['hidden']}")
    if manifest.max_length > h["context"]:
        problems.append(f"the manifest's max_length {manifest.max_length} exceeds the context {h['context']}")
    counts = [layout.counts.get(key) for key in TOKEN_ARRAYS]
    vocab = counts[0]
    if vocab is None or len(set(counts)) != 1:
        problems.append(f"the tokenizer arrays have {counts} entries, not one count")
    else:
        problems += [
            f"{key} {values[key]} is outside the vocabulary"
            for key in TOKEN_IDS
            if key in values and not (isinstance(values[key], int) and 0 <= values[key] < vocab)
        ]
    problems += [f"{key} repeats {n} of its entries" for key, n in layout.repeats.items()]
    problems += _charsmap_problems(values.get(names["charsmap"]))
    problems += _tensor_problems(layout, h, vocab, len(manifest.labels))
    return problems


def _charsmap_problems(blob) -> list[str]:
    if blob is None:
        return []
    from ..tokenizer.charsmap import PrecompiledCharsmap

    try:
        PrecompiledCharsmap(bytes(blob))
    except (ValueError, TypeError, IndexError) as exc:
        return [f"the precompiled charsmap is not one ({exc})"]
    return []


def expected_shapes(h: dict, vocab: int, labels: int) -> dict[str, list[int] | None]:
    """GGUF tensor name -> its dims (innermost first, as ggml stores them); None: checked elsewhere."""
    d, ffn = h["hidden"], h["ffn"]
    shapes = {
        "token_embd.weight": [d, vocab],
        "position_embd.weight": None,  # [d, at least max_length]
        "token_types.weight": None,  # [d, at least 1]
        "token_embd_norm.weight": [d],
        "token_embd_norm.bias": [d],
        "cls.weight": [d, d],
        "cls.bias": [d],
        "cls.output.weight": [d, labels],
        "cls.output.bias": [labels],
    }
    per_layer = {
        "attn_q": ([d, d], [d]),
        "attn_k": ([d, d], [d]),
        "attn_v": ([d, d], [d]),
        "attn_output": ([d, d], [d]),
        "attn_output_norm": ([d], [d]),
        "ffn_up": ([d, ffn], [ffn]),
        "ffn_down": ([ffn, d], [d]),
        "layer_output_norm": ([d], [d]),
    }
    for i in range(h["blocks"]):
        for name, (weight, bias) in per_layer.items():
            shapes[f"blk.{i}.{name}.weight"], shapes[f"blk.{i}.{name}.bias"] = weight, bias
    return shapes


def _tensor_problems(layout, h: dict, vocab, labels: int) -> list[str]:
    sizes = require("gguf", "reading GGUF files").GGML_QUANT_SIZES
    expected = expected_shapes(h, vocab or 0, labels)
    problems = [f"tensor {n} is missing" for n in expected if n not in layout.tensors]
    problems += [f"unexpected tensor {n}" for n in layout.tensors if n not in expected]
    for name, (stored, ggml_type) in layout.tensors.items():
        dims = list(stored) + [1] * (2 - len(stored))  # ggml drops trailing 1s: a [d, 1] table is [d]
        want = expected.get(name)
        want = want and want + [1] * (len(dims) - len(want))
        if name in ("position_embd.weight", "token_types.weight"):
            rows = h["context"] if name.startswith("position") else 1
            if len(dims) != 2 or dims[0] != h["hidden"] or dims[1] < rows:
                problems.append(f"tensor {name} has dims {dims}, expected [{h['hidden']}, >= {rows}]")
        elif want is not None and dims != want:
            problems.append(f"tensor {name} has dims {list(stored)}, expected {want}")
        if dims and dims[0] % sizes[ggml_type][0]:
            problems.append(f"tensor {name}: rows of {dims[0]} do not fill whole blocks of its type")
    return problems
