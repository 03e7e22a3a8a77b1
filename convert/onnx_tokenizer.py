"""`convert --to onnx --with-tokenizer`: one graph from a batch of strings to logits and p(unsafe).

`text` (string [batch]) -> onnxruntime-extensions' SentencepieceTokenizer (fairseq ids; the op is in
ONNX Runtime's Android, iOS and web builds with extensions) -> `<s> pieces </s>` padded with `<pad>`
-> the classifier graph -> `logits` [batch, labels] and `p_unsafe` [batch].

The op runs sentencepiece on a model rewritten to agree with transformers (see spm_rewrite); the
cases where it still cannot agree are named in crest_edge.formats.onnx_text.

Long text: the graph keeps the first max_length - 2 pieces (the `head` policy). An app that wants
crest-edge's default `windows` policy must cut the text itself and take the worst window's p(unsafe).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from crest_edge import progress
from crest_edge.extras import require
from crest_edge.formats import onnx as fmt
from crest_edge.formats import onnx_text
from crest_edge.formats.checkpoint import Checkpoint
from crest_edge.tokenizer import BOS_ID, EOS_ID, PAD_ID, SPM_FILE

from . import onnx_export as E
from . import spm_rewrite

CONTRIB = "ai.onnx.contrib"  # onnxruntime-extensions' operator domain


def write(checkpoint: Checkpoint, directory: Path, model_file: str) -> dict:
    """Write onnx_text.MODEL_FILE beside `model_file` in `directory`; return the manifest's record."""
    onnx = require("onnx", "the tokenizer graph")
    spm_path = checkpoint.path / SPM_FILE
    if not spm_path.is_file():
        from crest_edge.errors import ConversionError

        raise ConversionError(f"{checkpoint.path}: --with-tokenizer needs {SPM_FILE} (the op reads sentencepiece)")
    progress.note("rewriting the sentencepiece model for the tokenizer op")
    spm_bytes, notes = spm_rewrite.rewrite(spm_path.read_bytes())
    model = onnx.load(str(directory / model_file))
    unsafe = [label.lower() for label in checkpoint.labels].index("unsafe")
    progress.note(f"writing {onnx_text.MODEL_FILE}")
    attach(model, spm_bytes, checkpoint.max_length, unsafe)
    E.save(model, directory / onnx_text.MODEL_FILE)
    return {
        "file": onnx_text.MODEL_FILE,
        "input": onnx_text.INPUT,
        "outputs": list(onnx_text.OUTPUTS),
        "op": f"{CONTRIB}.SentencepieceTokenizer (onnxruntime-extensions)",
        "long_text": onnx_text.LONG_TEXT,
        "sentencepiece_rewrite": notes,
        "known_mismatches": onnx_text.KNOWN_MISMATCHES,
    }


def attach(model, spm_bytes: bytes, max_length: int, unsafe_index: int) -> None:
    """Replace `model`'s id inputs by a string input and add `p_unsafe` (in place)."""
    onnx = require("onnx", "the tokenizer graph")
    h, T = onnx.helper, onnx.TensorProto
    graph = model.graph

    def const(name, value, kind=np.int64):
        graph.initializer.append(onnx.numpy_helper.from_array(np.asarray(value, dtype=kind), name))
        return name

    room = const("tok/room", [max_length - 2])
    zero, one = const("tok/zero", [0]), const("tok/one", [1])
    big, axis0 = const("tok/big", [2**62]), const("tok/axis0", [0])
    flags = [const(f"tok/{n}", [v], np.bool_) for n, v in (("add_bos", 0), ("add_eos", 0), ("reverse", 0))]
    nodes = [
        h.make_node(
            "SentencepieceTokenizer",
            [
                onnx_text.INPUT,
                const("tok/nbest", [0]),
                const("tok/alpha", [0.0], np.float32),
                *flags,
                const("tok/fairseq", [1], np.bool_),
            ],
            ["tok/pieces32", "tok/splits"],
            domain=CONTRIB,
            name="tok/SentencepieceTokenizer",
            model=spm_bytes,
        ),
        h.make_node("Cast", ["tok/pieces32"], ["tok/pieces64"], to=T.INT64),
        # one spare element so the gather below never indexes an empty tensor
        h.make_node("Concat", ["tok/pieces64", zero], ["tok/pieces"], axis=0),
        h.make_node("Slice", ["tok/splits", zero, const("tok/minus1", [-1]), axis0], ["tok/starts"]),
        h.make_node("Slice", ["tok/splits", one, big, axis0], ["tok/ends"]),
        h.make_node("Sub", ["tok/ends", "tok/starts"], ["tok/lengths_all"]),
        h.make_node("Min", ["tok/lengths_all", room], ["tok/lengths"]),  # head truncation
        h.make_node("ReduceMax", ["tok/lengths"], ["tok/longest"], keepdims=1),
        h.make_node("Add", ["tok/longest", const("tok/two", [2])], ["tok/width"]),
        h.make_node("Squeeze", ["tok/width"], ["tok/width_scalar"]),
        h.make_node("Range", [const("tok/zero_s", 0), "tok/width_scalar", const("tok/one_s", 1)], ["tok/j"]),
        h.make_node("Unsqueeze", ["tok/j", axis0], ["tok/col"]),  # [1, width]
        h.make_node("Unsqueeze", ["tok/starts", one], ["tok/start_rows"]),  # [batch, 1]
        h.make_node("Unsqueeze", ["tok/lengths", one], ["tok/length_rows"]),
        h.make_node("Add", ["tok/start_rows", "tok/col"], ["tok/at_plus1"]),
        h.make_node("Sub", ["tok/at_plus1", one], ["tok/at"]),
        h.make_node("GreaterOrEqual", ["tok/col", one], ["tok/after_bos"]),
        h.make_node("LessOrEqual", ["tok/col", "tok/length_rows"], ["tok/in_text"]),
        h.make_node("And", ["tok/after_bos", "tok/in_text"], ["tok/is_piece"]),
        h.make_node("Where", ["tok/is_piece", "tok/at", zero], ["tok/index"]),
        h.make_node("Gather", ["tok/pieces", "tok/index"], ["tok/gathered"], axis=0),
        h.make_node("Add", ["tok/length_rows", one], ["tok/eos_at"]),
        h.make_node("Equal", ["tok/col", "tok/eos_at"], ["tok/is_eos"]),
        h.make_node("Equal", ["tok/col", zero], ["tok/is_bos"]),
        h.make_node("LessOrEqual", ["tok/col", "tok/eos_at"], ["tok/is_real"]),
        h.make_node("Where", ["tok/is_eos", const("tok/eos", [EOS_ID]), const("tok/pad", [PAD_ID])], ["tok/tail"]),
        h.make_node("Where", ["tok/is_bos", const("tok/bos", [BOS_ID]), "tok/tail"], ["tok/frame"]),
        h.make_node("Where", ["tok/is_piece", "tok/gathered", "tok/frame"], [fmt.INPUTS[0]]),
        h.make_node("Cast", ["tok/is_real"], [fmt.INPUTS[1]], to=T.INT64),
    ]
    tail = [
        h.make_node("Softmax", [fmt.OUTPUT], ["tok/probabilities"], axis=-1),
        h.make_node("Gather", ["tok/probabilities", const("tok/unsafe", unsafe_index)], ["p_unsafe"], axis=1),
    ]
    body = list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes + body + tail)
    del graph.input[:]
    graph.input.append(h.make_tensor_value_info(onnx_text.INPUT, T.STRING, ["batch"]))
    graph.output.append(h.make_tensor_value_info("p_unsafe", T.FLOAT, ["batch"]))
    model.opset_import.append(h.make_opsetid(CONTRIB, 1))
