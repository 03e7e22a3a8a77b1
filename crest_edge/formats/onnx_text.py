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
# category -> what happens, and how many of tests/test_tokenizer.py's 3,174 strings it hits (the
# parity corpus: 0 of 1,416). transformers cuts added tokens out of the raw text; the op cannot.
KNOWN_MISMATCHES = {
    "special_token_text": {
        "what": "literal <s> </s> <pad> <unk> <mask> in the text (after NFKC): transformers makes them one "
        "special id; the op spells <s> </s> <pad> <unk> with pieces and puts a ▁ before <mask>",
        "test_strings": 172,
    },
    "unigram_tie": {
        "what": "two segmentations with equal scores (e.g. '!!!!!' as '!' '!!!!' or '!!!!' '!'): "
        "sentencepiece and tokenizers break the tie differently",
        "test_strings": 15,
    },
    "short_cluster_above_u0800": {
        "what": "a grapheme cluster under 6 bytes on a base from U+0800 up with a combining mark "
        "(e.g. U+FB01 U+0301): tokenizers drops the mark, the op keeps it",
        "test_strings": 14,
    },
    "prepend_cluster": {
        "what": "a cluster opened by a Prepend character (U+0600..U+0605, U+06DD, ...): tokenizers maps it "
        "character by character, the op composes what follows",
        "test_strings": 4,
    },
    "nul_character": {"what": "U+0000 ends the text for the op", "test_strings": 2},
}
