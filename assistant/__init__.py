"""Offline voice assistant that answers questions about CAR T-cell therapy from a patient guide."""

__version__ = "0.1.0"
