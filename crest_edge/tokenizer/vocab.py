"""The fairseq id layout XLM-R uses on top of its sentencepiece model, and the tokenizer file names.

`<s>`=0, `<pad>`=1, `</s>`=2, `<unk>`=3; every other piece id = sentencepiece id + 1 (sentencepiece's
own `<unk>` 0 maps to 3); `<mask>` is the last id. A sequence is `<s> pieces </s>`.
"""

SPM_FILE = "sentencepiece.bpe.model"
JSON_FILE = "tokenizer.json"
TOKENIZER_FILES = (SPM_FILE, JSON_FILE)
BOS_ID, PAD_ID, EOS_ID, UNK_ID = 0, 1, 2, 3
FAIRSEQ_OFFSET = 1
SPECIAL_TOKENS = ("<s>", "<pad>", "</s>", "<unk>")  # fairseq ids 0..3; "<mask>" is the last id
MASK_TOKEN = "<mask>"
