"""Stream worker that turns raw Chinese web-page text into clean articles and structured metrics."""

__version__ = "0.1.0"
