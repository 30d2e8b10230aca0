"""parcelnet: nationwide parcel networks on real geography.

Build a network (``parcelnet.network.build_network``), load one in the PNF v1
format (``load_network``), and ask when parcels arrive (``PromiseEngine``).
"""

__version__ = "0.1.0"

from parcelnet.errors import NotFoundError, ParameterError, ParcelnetError, ValidationError  # noqa: E402

__all__ = ["__version__", "ParcelnetError", "ValidationError", "NotFoundError", "ParameterError"]
