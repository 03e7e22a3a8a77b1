"""The CTranslate2 artifact: a directory with CT2's `model.bin` (the encoder), the fp32 classification
head beside it (`head.npz`; CT2's XLM-R model has no head), the tokenizer and `crest-edge.json`."""

NAME = "ct2"
MODEL_FILE = "model.bin"
HEAD_FILE = "head.npz"
HEAD_TENSORS = ("dense.weight", "dense.bias", "out_proj.weight", "out_proj.bias")
PACKAGES = ("ctranslate2",)  # recorded in the manifest's versions

# --quant -> precision class. int16 keeps 15 bits per weight with a per-row scale: 16-bit class.
QUANTS = {
    "int8": "8-bit",
    "int8_float16": "8-bit",
    "int8_bfloat16": "8-bit",
    "int16": "16-bit",
    "float16": "16-bit",
    "bfloat16": "16-bit",
    "float32": "fp32",
}
_NO_4BIT = (
    "CTranslate2 has no 4-bit kernels for encoders; "
    "use `--to gguf --quant q4_k_m` (or q4_0) or `--to onnx --quant int4`"
)
REFUSED = {
    q: f"--quant {q}: {_NO_4BIT}"
    for q in (
        "int4",
        "int4_float16",
        "int4_float32",
        "int4_bfloat16",
        "q4",
        "q4_0",
        "q4_1",
        "q4_k",
        "q4_k_m",
        "q4_k_s",
        "awq",
        "gptq",
        "nf4",
        "fp4",
        "4bit",
        "4-bit",
        "w4a16",
    )
}
INT8 = ("int8", "int8_float16", "int8_bfloat16")
# Linear weights of int8 artifacts keep 7 bits (+-63), not 8. On x86 CPUs without VNNI (AVX2: most
# laptops) CT2's int8 GEMM (oneDNN; MKL only on Intel) multiplies u8 activations by s8 weights with
# vpmaddubsw, which saturates a pair of products at int16: 255 * 127 * 2 > 32767. Measured on the demo,
# AMD EPYC (AVX2, no VNNI), parity corpus: 8-bit weights 99.51% agreement, max |dp| 0.104 (fails the
# 8-bit gate); 7-bit weights 100%, 0.036; MKL forced (no saturation, 8-bit) 100%, 0.032 but 3-6x slower.
INT8_WEIGHT_BITS = 7
# What CT2 reports as its effective compute type, when it is not one of QUANTS.
ENGINE_PRECISIONS = {"int8_float32": "8-bit"}
# What `--quant auto-...` tries per class, cheapest first: (quant, converter options)
AUTO = {"8-bit": (("int8", {}),)}
# What an int8 artifact's manifest records as its recipe. Rescaling before quantization was measured on
# the outlier stress checkpoint (parity corpus; plain int8: 99.93% agreement, max |dp| 0.093, which fails
# the 8-bit gate) and left out: SmoothQuant on the only site CT2's fixed graph lets the weights carry
# alone (attention output: V's rows divided, the output projection's columns multiplied) gave 0.096;
# the FFN input's outlier channels rescaled inside the weights (the residual restored exactly by two
# extra FFN neurons per channel, GELU(z) - GELU(-z) = z) gave 0.084 at alpha 0.5 and 0.25 at 0.8 on an
# earlier stress build whose plain int8 gave 0.082, as the 7-bit per-row weights then carry the
# outliers. The Q/K/V input (a LayerNorm output that also feeds the next LayerNorm) and GELU's output
# would need an operation of their own, which a CT2 encoder has no place for; and every linear weight
# of an int8 model is int8 (CT2 quantizes any float weight it finds at load), so none can stay float.
# The Q/K/V input is the site that breaks it: CT2's int8 simulated one site at a time in torch
# (scripts/ct2_int8_sites.py, stress checkpoint, parity corpus) gives max |dp| 0.063 with Q/K/V's
# input alone, 0.011 attention output, 0.007 FFN up, 0.011 FFN down, 0.068 all four (demo: 0.023 / 0.004
# / 0.002 / 0.002 / 0.026). That input is the previous LayerNorm's output, which the residual also
# carries into the next LayerNorm, so no rescaling CT2's weights can hold is exact there.
# The exact per-channel shift (Outlier Suppression+: LayerNorm bias minus the calibrated mid-range c,
# consumers' biases plus W c, the residual partner's bias plus c) gave 0.104 on the stress checkpoint
# (symmetric outliers) and 0.399 on real pretrained weights (plain 0.428): left out.
INT8_RECIPE = {"weights": f"int8 per output row, {INT8_WEIGHT_BITS} bits", "activations": "int8 per row, per call"}
