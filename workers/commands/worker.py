"""`worker`: faust's worker for this app, after creating any missing topics."""
from __future__ import annotations

import asyncio
import sys

from ..settings import get_settings


def main(argv: list[str]) -> int:
    from .. import agents  # noqa: F401  (registers the agents with the app)
    from ..app import app, ensure_topics
    from ..logs import logging_config, quiet_client_repeats

    settings = get_settings()
    quiet_client_repeats()
    asyncio.run(ensure_topics(settings))
    app.conf.logging_config = logging_config(settings.log_level, settings.log_json)
    quiet = ["--quiet"] if settings.log_json else []  # faust's banner and spinner are not log records
    sys.argv = ["python -m workers", *quiet, "worker", "--loglevel", settings.log_level, *argv]
    app.main()
    return 0
