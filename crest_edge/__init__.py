"""crest-edge: run the CREST multilingual safety classifier on device, provably faithful to fp32."""

from .errors import (
    ArtifactError,
    ClosedError,
    ConversionError,
    CrestEdgeError,
    DeviceError,
    EngineError,
    MissingExtraError,
    OutsideVocabularyError,
)
from .guard import Guard
from .stream import Stream
from .verdict import Verdict
from .version import __version__

__all__ = [
    "Guard",
    "Stream",
    "Verdict",
    "CrestEdgeError",
    "ArtifactError",
    "ConversionError",
    "DeviceError",
    "MissingExtraError",
    "EngineError",
    "ClosedError",
    "OutsideVocabularyError",
    "__version__",
]
