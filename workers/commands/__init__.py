"""Command-line entry points: `python -m workers COMMAND`."""
