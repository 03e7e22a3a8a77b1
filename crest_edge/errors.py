"""Typed errors. The CLI prints any CrestEdgeError as one line and exits non-zero."""


class CrestEdgeError(Exception):
    """Base class for every error crest-edge raises on purpose."""


class ArtifactError(CrestEdgeError, ValueError):
    """A checkpoint or artifact is missing, corrupt, or not what it claims to be."""


class ConversionError(CrestEdgeError, ValueError):
    """A conversion was refused; carries every problem found, not just the first."""

    def __init__(self, problems):
        self.problems = list(problems) if not isinstance(problems, str) else [problems]
        super().__init__("; ".join(self.problems))


class DeviceError(CrestEdgeError, ValueError):
    """An explicitly requested engine or device is not available here."""


class MissingExtraError(CrestEdgeError, ImportError):
    """An optional engine package is not installed."""


class EngineError(CrestEdgeError, RuntimeError):
    """The engine failed, or produced non-finite scores, while classifying."""


class ClosedError(CrestEdgeError, RuntimeError):
    """A Guard or engine was used after close()."""


class OutsideVocabularyError(CrestEdgeError, ValueError):
    """A trimmed model was given text mostly outside the languages it serves (on_outside="raise")."""
