"""Phrase tables authored for crest-edge's own corpora (see scripts/make_corpora.py)."""
