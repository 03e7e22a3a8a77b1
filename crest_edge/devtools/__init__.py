"""Tools for building models locally (no hub): seeded CREST-shaped checkpoints (`synth`) and the small
sentencepiece models they use (`spm_train`)."""
