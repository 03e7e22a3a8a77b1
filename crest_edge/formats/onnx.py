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
# What `--quant auto-...` tries per class, cheapest first: (quant, converter options)
AUTO = {"8-bit": (("int8", {}),), "4-bit": (("int4", {}),)}
