"""The ONNX graph with the tokenizer inside (`convert --to onnx --with-tokenizer`), and its ORT-format
twins for mobile (`--ort`): file names, inputs and outputs, and where its ids differ from
crest-edge's tokenizer (measured by tests/test_onnx_text.py; the manifest carries the same record)."""

MODEL_FILE = "model_with_tokenizer.onnx"
INPUT = "text"  # string [batch]
OUTPUTS = ("logits", "p_unsafe")  # float32 [batch, labels], float32 [batch]
ORT_SUFFIX = ".ort"  # model.onnx -> model.ort, beside it
REQUIRED_OPERATORS = "required_operators.config"  # for a reduced ONNX Runtime build
PACKAGES = ("onnxruntime-extensions",)
LONG_TEXT = (
    "head: the graph keeps the first max_length - 2 pieces; for crest-edge's default windows policy the "
    "app cuts the text into windows itself and takes the highest p_unsafe"
)
KNOWN_MISMATCHES = {}
