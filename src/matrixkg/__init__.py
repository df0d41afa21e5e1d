"""matrixkg: a linked-data publisher for evidence maps."""

__version__ = "0.1.0"
