"""`worker`: faust's worker for this app, after creating any missing topics."""
from __future__ import annotations

import asyncio
import sys

from ..settings import get_settings


def main(argv: list[str]) -> int:
    from .. import agents  # noqa: F401  (registers the agents with the app)
    from ..app import app, ensure_topics

    settings = get_settings()
    asyncio.run(ensure_topics(settings))
    sys.argv = ["python -m workers", "worker", "--loglevel", settings.log_level, *argv]
    app.main()
    return 0
