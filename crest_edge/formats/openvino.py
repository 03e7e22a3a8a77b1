"""The OpenVINO artifact: a directory with OpenVINO IR (`model.xml`, `model.bin`: the encoder and the
classification head), the word-embedding table beside it (`embeddings.npy`, with `embedding_scales.npy`
when it is int8), the tokenizer and `crest-edge.json`.

The embedding lookup stays outside the graph: XLM-R's table is 192M of its 278M weights, and OpenVINO's
CPU plugin expands an in-graph table to float32 at compile time (measured on base: 1.8 GB peak, 1.1 GB
held, for an NNCF int8 IR of 280 MB). Read with numpy's mmap, only the rows a text uses are in memory.
The graph takes `inputs_embeds` (float32 [batch, length, hidden], the rows of the table) and
`attention_mask`, right-padded, and returns `logits`.

Shapes stay dynamic. Static shapes (one compiled model per batch x length) measured on base, this
format's int8 IR, 2 cores of a Xeon with AMX, two runs: 1x16 7.5-7.8 -> 6.2-6.6 ms, 1x128 19.3-19.7 ->
17.5-17.8 ms, 32x64 190-197 -> 190-195 ms, for a peak RSS of 942 MB against 530 MB with three shapes
compiled, and every text would be padded up to its bucket's length: not worth the memory on the devices
this is for.
"""

NAME = "openvino"
MODEL_FILE = "model.xml"
WEIGHTS_FILE = "model.bin"
EMBEDDINGS_FILE = "embeddings.npy"  # float32 (fp32), float16 (bf16) or int8 (int8, int4) [vocab, hidden]
EMBEDDING_SCALES_FILE = "embedding_scales.npy"  # float32 [vocab]: row scale of an int8 table
INPUTS = ("inputs_embeds", "attention_mask")
OUTPUT = "logits"
PACKAGES = ("openvino", "nncf")

QUANTS = {"fp32": "fp32", "bf16": "16-bit", "int8": "8-bit", "int4": "4-bit"}
REFUSED = {
    **{q: f"--quant {q}: OpenVINO's 16-bit CPU compute is bfloat16; use --quant bf16" for q in ("fp16", "float16")},
    **{q: f"--quant {q}: use --quant int4 (NNCF 4-bit weights) for OpenVINO" for q in ("q4_0", "q4_k_m", "nf4")},
    "q8_0": "--quant q8_0 is a GGUF type: use --to openvino --quant int8",
}
# What `--quant auto-...` tries per class, cheapest first: (quant, converter options). The weight-only int8
# (RECIPES below) is the fallback where the static int8 is too coarse (the demo's seed corpus: 0.062).
AUTO = {"8-bit": (("int8", {}), ("int8", {"recipe": "weight-only"})), "4-bit": (("int4", {}),)}

# --quant -> the embedding table's storage, and OpenVINO's INFERENCE_PRECISION_HINT for the graph.
# The hint is a request: the adapter reports what the compiled model says it runs at (a CPU without
# bf16 gives f32 for "bf16"), and the parity class follows the coarser of the two.
EMBEDDINGS = {"fp32": "float32", "bf16": "float16", "int8": "int8", "int4": "int8"}
PRECISION_HINT = {"fp32": "f32", "bf16": "bf16", "int8": "f32", "int4": "f32"}
# The engine's precision names -> the names the rest of crest-edge reports
REPORTED_PRECISION = {"f32": "float32", "bf16": "bfloat16", "f16": "float16"}

# How int8 and int4 are made (convert/openvino.py). int8: nncf.quantize, transformer preset, static
# activation scales calibrated on the seed corpus, NNCF's SmoothQuant (its default alpha), full bias
# correction; the attention score MatMuls (Q.K^T, softmax.V) and the head stay float. Measured on the
# outlier stress checkpoint, parity corpus (agreement / max |dp|; 8-bit gate 99.5% / 0.05), float ops
# in f32: NNCF defaults 99.72% / 0.259; attention MatMuls float 99.93% / 0.052; + Q/K/V float 0.070;
# + FFN-down float 0.088; SmoothQuant off 0.249, alpha 0.8 0.119; + full bias correction 99.93% /
# 0.046 (passes; demo 99.72% / 0.048). Float ops in bf16 (OpenVINO's default on AMX; 1.05-1.17x
# faster on base) fail both: demo 99.86% / 0.055, stress 99.78% / 0.057 (parity texts of <= 510
# tokens); marking LayerNorm, Softmax and Add with OpenVINO's disable_fp16_compression did not keep
# them in f32 on the CPU (the compiled model still ran them in bf16), so the hint stays f32.
# The last layer computes <s>'s row only (convert/cls_row.py); with its Linear layers int8 as well the
# stress checkpoint gave 0.052 (fails), with the whole layer float 0.043, with its FFN-down alone float
# 99.93% / 0.044 (demo 99.72% / 0.048): kept, as one row's FFN-down in float costs little.
# int4: nncf.compress_weights, 4-bit symmetric weights in groups of 32, 10% of the weights (the most
# sensitive, NNCF's choice) kept int8, scales estimated on the seed corpus. Stress (4-bit gate 98% /
# 0.15): data-free 98.73% / 0.206; AWQ alone the same; GPTQ 0.182; scale estimation 99.36% / 0.123
# (demo 0.151: fails); groups of 16 + scale estimation 0.158; ratio 0.9 + scale estimation 99.36% /
# 0.121 (demo 99.93% / 0.035): both pass; with the <s>-only last layer 99.29% / 0.129 (demo 100% /
# 0.034). all_layers (embeddings and head too) fell to 94%.
# On real pretrained weights (scripts/pretrained_checkpoint.py) no int8 recipe passes: this one 97.60% /
# 0.545; + every FFN-down float 0.527, + SmoothQuant alpha 0.5 0.527; the exact per-channel shift of
# LayerNorm outputs 0.488; weight-only compress_weights INT8_SYM 0.090, INT8_ASYM 0.087, MXFP8_E4M3 in
# groups of 32 0.302 (NNCF's int8 modes are per-channel only). int4 passes there (99.58% / 0.090).
# node names of the traced graph: the attention scores of every layer, the last layer's FFN-down, the head
# ({last}: the last layer's index)
KEPT_FLOAT = (
    r".*attention\.self/aten::matmul.*",
    r".*layer\.{last}\.output\.dense.*",
    r".*classifier\.classifier.*",
)
RECIPES = {
    "int8": {
        "calibration_texts": 256,
        "smooth_quant_alpha": None,
        "fast_bias_correction": False,
        "ignored": KEPT_FLOAT,
    },
    # weight-only: nncf.compress_weights, 8-bit asymmetric weights per output channel, float32 compute.
    # Seed / parity corpus max |dp|: demo 0.020 / 0.031 (the int8 recipe 0.062 / 0.048), stress 0.017 /
    # 0.042 (0.026 / 0.044); real pretrained weights 0.087 (fails there too). It costs speed: base, 2 threads,
    # AMX Xeon, ms at 1x16 / 1x128 / 32x64: 16.4 / 72.0 / 1,067 against the int8 recipe's 7.3 / 19.1 / 184.
    "int8:weight-only": {"mode": "int8_asym", "group_size": -1, "ratio": 1.0, "data_aware": ()},
    "int4": {"mode": "int4_sym", "group_size": 32, "ratio": 0.9, "data_aware": ("scale_estimation",)},
}

# Devices OpenVINO names (CPU, GPU, GPU.1, NPU) -> crest-edge's device names, best first for "auto".
DEVICES = {"gpu": "GPU", "npu": "NPU", "cpu": "CPU"}
