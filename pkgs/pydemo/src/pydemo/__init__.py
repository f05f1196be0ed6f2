"""Python bindings for libsagedemo, the C library of sagebuild's demo distribution."""

from ._pydemo import gcd, is_prime, libversion

__version__ = "0.2.0"
__all__ = ["gcd", "is_prime", "libversion"]
