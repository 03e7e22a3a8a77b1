"""The ONNX Runtime artifact: a directory with `model.onnx` (input_ids, attention_mask -> logits; the
classification head inside the graph), the tokenizer and `crest-edge.json`. A graph over 2 GB keeps its
weights in `model.onnx.data` beside it."""

NAME = "onnx"
MODEL_FILE = "model.onnx"
INPUTS = ("input_ids", "attention_mask")
OUTPUT = "logits"
PACKAGES = ("onnxruntime", "onnx")

QUANTS = {"fp32": "fp32", "fp16": "16-bit", "int8": "8-bit", "int4": "4-bit"}
REFUSED = {
    **{q: f"--quant {q}: ONNX Runtime's 16-bit graphs are float16; use --quant fp16" for q in ("bf16", "bfloat16")},
    **{
        q: f"--quant {q} is a GGUF type: use --to gguf --quant {q}, or --to onnx --quant int4 (4-bit MatMulNBits)"
        for q in ("q4_0", "q4_1", "q4_k_m", "q4_k_s", "q8_0")
    },
}
# --quant -> the precision the adapter reports (int8 and int4 keep their names)
PRECISION = {"fp32": "float32", "fp16": "float16"}
# What `--quant auto-...` tries per class, cheapest first: (quant, converter options). The weight-only int8
# (RECIPES below) passes on real pretrained weights where the int8 recipe does not, at a cost in speed.
AUTO = {"8-bit": (("int8", {}), ("int8", {"recipe": "weight-only"})), "4-bit": (("int4", {}),)}

# The MatMul nodes of the exported graph that read each smoothing site (convert/activations.SITES), as
# node-name patterns: the legacy exporter names nodes after the torch modules.
SITE_NODES = {
    "qkv": r"/layer\.{layer}/attention/self/(query|key|value)(/main)?/MatMul$",  # main: convert/outlier_split.py
    "attention_out": r"/layer\.{layer}/attention/output/dense/MatMul$",
    "ffn_up": r"/layer\.{layer}/intermediate/dense/MatMul$",
    "ffn_down": r"/layer\.{layer}/output/dense/MatMul$",
}

# --quant -> how the converter lowers the graph (convert/onnx.py):
#   smoothing: SmoothQuant (alpha, sites) applied before export (convert/smoothing.py), or None;
#   activations (int8): "static" = scales calibrated on the seed set (QDQ: batch-invariant), "dynamic" =
#   computed per call over the whole padded batch (a text's score then depends on its neighbours);
#   float_layers (int8): site -> the layers whose MatMuls at that site stay float32;
#   bits, block, accuracy_level: weight-only MatMulNBits (4 = int8 activations per block, 0 = float32);
#   qkv_outliers (int8): Q/K/V's input channels whose calibrated max |x| (after smoothing) exceeds `ratio`
#   times the median channel's, at most `most` per layer, computed apart in float (convert/outlier_split.py).
# Measured on the outlier stress checkpoint, parity corpus (agreement, max |dp|; 8-bit gate 99.5% / 0.05):
#   int8 dynamic (0.2.0) 99.58% / 0.199; static 99.58% / 0.219; static + smoothing alpha 0.5 99.79% / 0.166, 0.8
#   99.93% / 0.071, 0.9 99.72% / 0.070; alpha 0.8 with ffn_down float 0.084, with ffn_up float 0.073, with Q/K/V
#   float 100% / 0.042 (passes: the previous recipe); 8-bit MatMulNBits (blockwise activations) 0.067, with
#   smoothing 0.053; static QDQ with only Q/K/V as 8-bit MatMulNBits (block 32) 100% / 0.052, block 16 0.054,
#   without smoothing Q/K/V 0.064; Q/K/V int8 with the top 2 channels per layer split off in float (ratio 2, most 8:
#   the 2 planted ones, 2.5-3.6x the median after smoothing) 99.93% / 0.048, top 4 0.043 (both with 1 flip), top 2
#   with layer 0's Q/K/V (reading the embeddings' LayerNorm) float 100% / 0.041, layer 1's instead 99.93% / 0.049;
#   without smoothing Q/K/V, split at 6x the median, 0.076.
#   int4 (4-bit gate 98% / 0.15): plain 99.86% / 0.138, smoothing alpha 0.5 0.176, 0.8 99.79% / 0.105.
# On real pretrained weights (scripts/pretrained_checkpoint.py, multilingual-e5-small; README "Quantization on
# outliers") the stress checkpoint's choices do not all carry over (agreement, max |dp|):
#   int4 with smoothing alpha 0.8 94.49% / 0.863, plain 99.65% / 0.126: smoothing folds the activation outliers
#   into the weights' input channels, and MatMulNBits' blocks run along those channels. int4 is plain.
#   int8 (the recipe below) 98.52% / 0.438; without smoothing 94.49% / 0.875, alpha 0.5 95.69% / 0.791, with every
#   ffn_down also float 99.15% / 0.296, Q/K/V float in every layer 98.23% / 0.422, only Q/K/V int8 (split) 99.36% /
#   0.134: every site's static int8 activations cost fidelity there. 8-bit MatMulNBits 99.65% / 0.126 (int8
#   activations); with float32 activations (accuracy_level 0) 100% / 0.021: it passes (the "int8:weight-only"
#   recipe, tried second by auto-8bit) but ran slower than the fp32 graph (ORT 1.32, 2 cores, ms at 1x16 / 1x128 /
#   32x64: 31.4 / 56.7 / 484 against fp32's 8.6 / 34.4 / 435 and the int8 recipe's 4.2 / 18.7 / 189); what it
#   saves is size (8-bit weights).
# Cost on `synth --shape base --outliers` against plain dynamic int8 (Intel Xeon, 2 cores, crest-edge bench):
# Q/K/V float took 1.3-1.7x its time, model.onnx 347 MB against 280 (bench/outliers-base-cpu.md); with the
# outliers split off, 0.98-1.19x and 289 MB (bench/outliers-split-base-cpu.md).
# int4's block 32 kept 99.9% agreement on the demo model, 64 and 128 fell to 99.6-99.7% (and max |dp|
# from 0.05 to 0.10) for 10-30% less time; accuracy level 4 (int8 activations) was 2x faster than fp32.
SMOOTH_ALL = (0.8, ("qkv", "attention_out", "ffn_up", "ffn_down"))
RECIPES = {
    "int8": {
        "smoothing": SMOOTH_ALL,
        "activations": "static",
        "float_layers": {"qkv": (0,)},
        "qkv_outliers": {"ratio": 2.0, "most": 8},
    },
    "int8:weight-only": {"smoothing": None, "bits": 8, "block": 32, "accuracy_level": 0},
    "int4": {"smoothing": None, "bits": 4, "block": 32, "accuracy_level": 4},
}
