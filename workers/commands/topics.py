"""`topics`: create the worker's topics that are missing (partitions and replication from settings)."""
from __future__ import annotations

import asyncio

from ..app import ensure_topics
from ..settings import get_settings


def main(argv: list[str]) -> int:
    created = asyncio.run(ensure_topics(get_settings()))
    print(f"created: {', '.join(created)}" if created else "all topics exist")
    return 0
