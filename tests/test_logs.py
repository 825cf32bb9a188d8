"""Log records: a flood of one client error is held back to one line a second, with a count."""
from __future__ import annotations

import io
import logging

from workers.logs import RepeatFilter


def record(name: str, msg: str, created: float) -> logging.LogRecord:
    made = logging.LogRecord(name, logging.ERROR, __file__, 1, msg, ("1",), None)
    made.created = created
    return made


def test_a_repeated_client_error_passes_once_a_window_and_then_says_how_many_were_held() -> None:
    repeats = RepeatFilter(window=1.0)
    passed = [repeats.filter(record("aiokafka", "Unable connect to node with id %s", 100 + n / 1000)) for n in range(1000)]
    assert passed[0] and passed.count(True) == 1
    later = record("aiokafka", "Unable connect to node with id %s", 101.5)
    assert repeats.filter(later)
    assert later.getMessage() == "Unable connect to node with id 1 [999 more like this held back]"
    again = record("aiokafka", "Unable connect to node with id %s", 103.0)
    assert repeats.filter(again) and again.getMessage() == "Unable connect to node with id 1"


def test_other_messages_and_loggers_are_counted_apart() -> None:
    repeats = RepeatFilter(window=1.0)
    assert repeats.filter(record("aiokafka", "Unable to update metadata from %s", 100.0))
    assert repeats.filter(record("aiokafka", "Unable connect to node with id %s", 100.1))
    assert repeats.filter(record("aiokafka.producer.sender", "Unable to update metadata from %s", 100.2))
    assert not repeats.filter(record("aiokafka", "Unable to update metadata from %s", 100.3))


def test_the_worker_keeps_the_root_logger_at_the_level_asked_for(monkeypatch) -> None:
    # faust's own worker sets the root logger to DEBUG at warn and above, for its terminal spinner
    from workers.app import Worker, app

    root = logging.getLogger()
    monkeypatch.setattr(root, "level", root.level)
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    worker = Worker(app, loglevel="warn", stdout=io.StringIO(), stderr=io.StringIO())
    worker._setup_logging()
    assert root.level == logging.WARNING
    assert not logging.getLogger("aiokafka.producer.producer").isEnabledFor(logging.DEBUG)
