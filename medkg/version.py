"""medkg's version: recorded in every graph's manifest and in the extraction fingerprint."""

__version__ = "0.1.0"
