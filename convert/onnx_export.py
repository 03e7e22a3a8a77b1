"""The ONNX graph steps behind `convert --to onnx`: export, then lower the precision.

Choices, measured on XLM-R base on this AVX512-VNNI CPU (CPU time per call, one thread):
- The legacy TorchScript exporter with eager attention. Its int8 graph ran 14% faster at
  32 x 64 than the default dynamo export with SDPA attention, and ORT's fusions recognise it.
- No offline fusion for fp32 / int8: ORT fuses the unfused graph when it loads it, and the
  graphs fused by onnxruntime.transformers.optimizer ran 0-15% slower (QAttention included).
  fp16 is fused (opt_level 0: pattern fusions only, portable across providers), for GPUs.
"""

from __future__ import annotations

import contextlib
import logging
import re
import warnings
from pathlib import Path

import numpy as np

from crest_edge.errors import ConversionError
from crest_edge.extras import require
from crest_edge.formats.checkpoint import Checkpoint
from crest_edge.formats.onnx import INPUTS, OUTPUT, SITE_NODES

from .common import int8_rows

OPSET = 17  # the first with LayerNormalization; every ORT >= 1.14 runs it
TWO_GB = 2**31 - 1  # protobuf's limit: bigger models keep their weights in an external file


def load_torch_model(checkpoint: Checkpoint):
    torch = require("torch", "exporting to ONNX")
    transformers = require("transformers", "exporting to ONNX")
    transformers.utils.logging.disable_progress_bar()  # its weight-loading bar is noise in a conversion
    model = transformers.XLMRobertaForSequenceClassification.from_pretrained(
        str(checkpoint.path), local_files_only=True, dtype=torch.float32, attn_implementation="eager"
    )
    return model.eval()


def export(model, path: Path) -> Path:
    """torch.onnx.export with dynamic batch and sequence axes; the head stays inside the graph."""
    torch = require("torch", "exporting to ONNX")
    ids = torch.tensor([[0, 10, 11, 12, 13, 14, 2], [0, 15, 16, 2, 1, 1, 1]])
    mask = (ids != model.config.pad_token_id).long()
    axes = {"batch", "sequence"}
    dynamic = {name: {0: "batch", 1: "sequence"} for name in INPUTS} | {OUTPUT: {0: "batch"}}
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation and tracer warnings
        torch.onnx.export(
            model,
            (ids, mask),
            str(path),
            input_names=list(INPUTS),
            output_names=[OUTPUT],
            dynamic_axes=dynamic,
            opset_version=OPSET,
            dynamo=False,
        )
    onnx = require("onnx", "exporting to ONNX")
    graph = onnx.load(str(path), load_external_data=False).graph
    for value in graph.input:
        dims = [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]
        if set(dims) != axes:
            raise ConversionError(f"exported input {value.name} has shape {dims}, expected [batch, sequence]")
    return path


def fuse(src: Path, checkpoint: Checkpoint):
    """ORT's BERT fusions (Attention, SkipLayerNorm, BiasGelu); returns the optimizer's OnnxModel."""
    require("onnxruntime", "optimizing the ONNX graph")
    from onnxruntime.transformers.optimizer import optimize_model

    return optimize_model(
        str(src), model_type="bert", num_heads=checkpoint.num_heads, hidden_size=checkpoint.hidden_size, opt_level=0
    )


def save(model_proto, path: Path) -> Path:
    """Write a graph; weights go to `<name>.data` beside it only past protobuf's 2 GB limit."""
    require("onnxruntime", "writing ONNX")
    from onnxruntime.transformers.onnx_model import OnnxModel

    try:
        external = model_proto.ByteSize() > TWO_GB
    except ValueError:  # protobuf refuses to even size a message over 2 GB
        external = True
    OnnxModel.save(model_proto, str(path), save_as_external_data=external)  # also declares com.microsoft
    return path


def opset_of(path: Path) -> int:
    onnx = require("onnx", "reading ONNX")
    model = onnx.load(str(path), load_external_data=False)
    return next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))


def to_fp16(fused) -> object:
    """float16 weights and compute; inputs stay int64 and logits stay float32 (keep_io_types)."""
    fused.convert_float_to_float16(keep_io_types=True)
    return fused.model


def embeddings_int8(model_proto):
    """Store the word embeddings (the table gathered by input_ids) as int8 with one scale per row.

    Gather(table) becomes Gather(int8 rows) * Gather(row scales). ORT's quantizers would use one
    scale for the whole table (quantize_dynamic) or 4 bits (MatMulNBitsQuantizer); on the demo
    model either cost more agreement than quantizing every MatMul did.
    """
    onnx = require("onnx", "quantizing the embeddings")
    from onnx import helper, numpy_helper

    graph = model_proto.graph
    tables = {t.name: t for t in graph.initializer if len(t.dims) == 2}
    found = 0
    for index, node in reversed(list(enumerate(graph.node))):
        if node.op_type != "Gather" or node.input[0] not in tables or node.input[1] != INPUTS[0]:
            continue
        name, found = node.input[0], found + 1
        rows, scale = int8_rows(numpy_helper.to_array(tables[name]))
        graph.initializer.remove(tables.pop(name))
        graph.initializer.extend(
            [
                numpy_helper.from_array(rows, name + ".int8"),
                numpy_helper.from_array(scale.astype(np.float32)[:, None], name + ".scale"),
            ]
        )
        out, ids, p = node.output[0], node.input[1], f"{node.name or name}/int8"
        replacement = [
            helper.make_node("Gather", [name + ".int8", ids], [p + "/rows"], name=p + "/Gather"),
            helper.make_node("Gather", [name + ".scale", ids], [p + "/scales"], name=p + "/GatherScale"),
            helper.make_node("Cast", [p + "/rows"], [p + "/float"], name=p + "/Cast", to=onnx.TensorProto.FLOAT),
            helper.make_node("Mul", [p + "/float", p + "/scales"], [out], name=p + "/Mul"),
        ]
        del graph.node[index]
        for offset, new in enumerate(replacement):
            graph.node.insert(index + offset, new)
    if not found:
        raise ConversionError("no word-embedding Gather on input_ids in the exported graph")
    return model_proto


def quantize_int8_dynamic(src: Path, dst: Path) -> Path:
    """Dynamic quantization of the MatMuls: int8 weights per tensor, activations quantized per call.

    Measured on this VNNI CPU: per_channel and reduce_range changed neither agreement nor speed;
    quant_pre_process and quantizing the fused graph (QAttention) ran 10-15% slower. Its activation
    scale spans the whole padded batch, so a text's score depends on its neighbours.
    """
    require("onnxruntime", "quantizing to int8")
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with _quiet():  # quantize_dynamic warns through the root logger about skipping pre-processing
        quantize_dynamic(
            src,
            dst,
            op_types_to_quantize=["MatMul"],
            weight_type=QuantType.QInt8,
            per_channel=False,
            reduce_range=False,
        )
    return dst


def quantize_int8_static(src: Path, dst: Path, sequences, nodes: list[str], pad_id: int) -> Path:
    """QDQ int8 of the MatMuls named in `nodes`: weights per output channel, activations with fixed scales
    calibrated (min/max) on `sequences`, one unpadded sequence per run so padding never widens a range.

    Only the Linear layers' MatMuls are named: left to itself quantize_static also quantizes attention's
    QK^T and PV and the Softmax output, whose 1/255 steps erase the ~1/512 probabilities of a long text
    (measured on the demo: max |dp| 0.89 on 512-token texts, against 0.05 with the Linear layers alone)."""
    require("onnxruntime", "quantizing to int8")
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    class Reader(CalibrationDataReader):
        def __init__(self):
            self._rows = iter(sequences)

        def get_next(self):
            ids = next(self._rows, None)
            if ids is None:
                return None
            ids = np.asarray([ids], dtype=np.int64)
            return {INPUTS[0]: ids, INPUTS[1]: (ids != pad_id).astype(np.int64)}

    with _quiet():
        quantize_static(
            src,
            dst,
            Reader(),
            quant_format=QuantFormat.QDQ,
            op_types_to_quantize=["MatMul"],
            per_channel=True,
            reduce_range=False,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            nodes_to_quantize=nodes,
            calibrate_method=CalibrationMethod.MinMax,
            # float outputs: DQ -> MatMul -> Add runs as MatMulIntegerToFloat, with no 8-bit rounding of the result
            extra_options={"MatMulConstBOnly": True, "OpTypesToExcludeOutputQuantization": ["MatMul"]},
            calibration_providers=["CPUExecutionProvider"],
            use_external_data_format=False,
        )
    return dst


def quantize_nbits(model_proto, dst: Path, recipe: dict) -> Path:
    """Weight-only MatMulNBits: symmetric, one scale per recipe["block"] weights, recipe["bits"] bits,
    activations quantized per block at recipe["accuracy_level"] (4: int8)."""
    require("onnx_ir", "quantizing to int4")
    with _quiet():  # importing it calls logging.basicConfig(level=INFO); _quiet undoes that on exit
        from onnxruntime.quantization.matmul_nbits_quantizer import DefaultWeightOnlyQuantConfig, MatMulNBitsQuantizer
    with _quiet():
        config = DefaultWeightOnlyQuantConfig(
            block_size=recipe["block"],
            is_symmetric=True,
            accuracy_level=recipe["accuracy_level"],
            op_types_to_quantize=("MatMul",),
            bits=recipe["bits"],
        )
        quantizer = MatMulNBitsQuantizer(model_proto, algo_config=config)
        quantizer.process()
    return save(quantizer.model.model, dst)


def site_nodes(model_proto, layers: int, sites, float_layers=None) -> list[str]:
    """The names of the MatMul nodes that read `sites` (crest_edge.formats.onnx.SITE_NODES) in every layer,
    except the layers `float_layers` (site -> layers) names for a site."""
    float_layers = float_layers or {}
    matmuls = [n.name for n in model_proto.graph.node if n.op_type == "MatMul"]
    found = set()
    for site in sites:
        for layer in range(layers):
            if layer not in float_layers.get(site, ()):
                pattern = re.compile(SITE_NODES[site].format(layer=layer))
                named = [name for name in matmuls if pattern.search(name)]
                if not named:  # a renamed module would otherwise stay float32 without a word
                    raise ConversionError(f"no MatMul of layer {layer}'s {site} in the exported graph")
                found.update(named)
    return [name for name in matmuls if name in found]


def smooth_torch_model(model, smoothed) -> None:
    """Load SmoothQuant-rescaled tensors into the torch model and divide each rescaled site's input by
    its scales with a forward pre-hook, which the exporter traces into one Mul node per site and layer."""
    torch = require("torch", "exporting to ONNX")
    state = model.state_dict()
    changed = {k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in smoothed.tensors.items() if k in state}
    model.load_state_dict(changed, strict=False)
    readers = {  # the module whose first argument is the site's input, and nothing else's
        "qkv": lambda layer: layer.attention.self,
        "ffn_up": lambda layer: layer.intermediate,
        "ffn_down": lambda layer: layer.output.dense,
    }
    for (index, site), factor in smoothed.input_scales.items():
        module = readers[site](model.roberta.encoder.layer[index])
        scale = torch.from_numpy(factor)
        module.register_forward_pre_hook(lambda _m, args, scale=scale: (args[0] * scale, *args[1:]))


@contextlib.contextmanager
def _quiet():
    """Silence the root logger ORT's quantizers log every node to, then restore it as it was."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def check_inputs(torch_model, shapes=((1, 5), (3, 37))):
    """Random id batches of shapes unlike the export's (one padded row) and transformers' logits for them."""
    torch = require("torch", "checking the ONNX export")
    rng = np.random.default_rng(0)
    pad, inputs, reference = torch_model.config.pad_token_id, [], []
    for batch, length in shapes:
        ids = rng.integers(3, torch_model.config.vocab_size, size=(batch, length))
        ids[:, 0], ids[:, -1] = 0, 2
        mask = np.ones_like(ids)
        if batch > 1:  # padding must not change the padded row's logits
            ids[-1, length // 2 :], mask[-1, length // 2 :], ids[-1, length // 2 - 1] = pad, 0, 2
        with torch.inference_mode():
            ref = torch_model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask)).logits
        inputs.append((ids, mask))
        reference.append(ref.numpy())
    return inputs, reference


def max_logit_diff(path: Path, inputs, reference) -> float:
    """Largest |logit| difference between the ONNX graph at `path` and the reference logits."""
    ort = require("onnxruntime", "checking the ONNX export")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    worst = 0.0
    for (ids, mask), ref in zip(inputs, reference):
        got = session.run([OUTPUT], {"input_ids": ids, "attention_mask": mask})[0]
        worst = max(worst, float(np.abs(got.astype(np.float32) - ref).max()))
    return worst
