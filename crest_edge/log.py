"""The package logger: every choice crest-edge makes (engine, device, precision) is said through it."""

import logging

log = logging.getLogger("crest_edge")
