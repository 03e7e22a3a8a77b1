"""crest-edge: run the CREST multilingual safety classifier on device, provably faithful to fp32."""
__version__ = "0.1.0"

from .errors import ArtifactError, ConversionError, CrestEdgeError, DeviceError, MissingExtraError
from .guard import Guard
from .verdict import Verdict

__all__ = ["Guard", "Verdict", "CrestEdgeError", "ArtifactError", "ConversionError", "DeviceError",
           "MissingExtraError", "__version__"]
