"""Worker configuration, read from environment variables (and an optional .env file).

Every field maps to an upper-case variable of the same name, e.g. `KAFKA_BOOTSTRAP_SERVERS`.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .pipeline import sitememory
from .pipeline.reprints import SIMILARITY_THRESHOLD, WINDOW_AGE_S, WINDOW_ARTICLES, ReprintIndex


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    app_id: str = Field("cn-article-worker", description="Consumer group and Faust app id")
    kafka_bootstrap_servers: str = Field("127.0.0.1:9092", description="Comma-separated brokers")

    topic_raw: str = "pages.raw"
    topic_articles: str = "articles.cleaned"
    topic_metrics: str = "metrics.facts"
    topic_deadletter: str = "pages.deadletter"
    # One message per segment of every page (tens to hundreds a page), so it is off unless named.
    topic_segments: str = Field("", description="Audit topic, e.g. pages.segments; empty disables it")
    # Site memory (workers/memory.py): what each page taught its site, keyed by site, and each site's template
    # and the pages of its window, compacted, read from its beginning by every worker.
    topic_observations: str = Field("sites.observations", description="Each page's line fingerprints, keyed by site")
    topic_templates: str = Field("sites.templates", description="Each site's template and window (compacted)")
    # Reprints (workers/signatures.py): each article's body signature, keyed by article id, compacted and
    # kept for REPRINT_WINDOW_AGE_S, read from its beginning by every worker into its reprint index.
    topic_reprints: str = Field("articles.signatures", description="Each article's body signature (compacted); "
                                                                  "empty: the worker marks no reprints")
    topic_partitions: int = Field(4, ge=1, description="Partitions of topics the worker creates")
    topic_replication: int = Field(1, ge=1, description="Replication factor of topics the worker creates")

    processing_guarantee: Literal["at_least_once", "exactly_once"] = "at_least_once"
    # A page's outputs are ~17 KB of JSON, mostly Chinese text: zstd makes them a quarter of that for
    # ~0.04 ms of a page's ~6 ms, lz4 under half for ~0.02 ms (bench/RESULTS.md). Consumers need the codec.
    output_compression: Literal["none", "gzip", "snappy", "lz4", "zstd"] = Field(
        "none", description="Codec of the batches the worker produces")
    max_page_bytes: int = Field(2 * 1024 * 1024, ge=1024, description="Raw messages above this are dead-lettered")
    agent_concurrency: int = Field(1, ge=1, description="Pages processed at once per worker process")
    # Kafka's own producer gives up on a record after delivery.timeout.ms = 120 s; faust's 20 minutes
    # kept a worker whose broker was gone retrying, and deaf to SIGTERM, for that long.
    delivery_timeout_s: float = Field(120.0, gt=0, description="Outputs not delivered within this long stop the worker")
    # A worker that dies without leaving the group (kill -9, a lost host) holds its partitions until the
    # broker has had no heartbeat from it for this long; faust's 60 s kept them idle for a minute. The
    # heartbeats are sent by faust's consumer thread, which a long page processed meanwhile does not hold
    # up (a 1 MiB page kept the group stable, tests/test_lifecycle.py). Brokers accept 6 s to 30 min
    # (group.min/max.session.timeout.ms).
    session_timeout_s: float = Field(10.0, gt=0, description="A worker not heard from this long leaves the group")
    heartbeat_interval_s: float = Field(3.0, gt=0, description="Seconds between heartbeats (a third of "
                                                               "SESSION_TIMEOUT_S or less)")
    # Under at_least_once faust commits the offsets below which every page is delivered this often, and
    # after every COMMIT_EVERY_PAGES pages; a worker that dies replays what it delivered since its last
    # commit. faust's own 2.8 s and 10,000 pages let a kill -9 replay up to 1,001 pages of 5,000.
    # exactly_once commits with each transaction instead (delivery.py).
    commit_interval_s: float = Field(1.0, gt=0, description="Seconds between offset commits (at_least_once)")
    commit_every_pages: int = Field(100, ge=1, description="Pages delivered between offset commits (at_least_once)")

    # Site memory's thresholds and bounds (workers/pipeline/sitememory.py): a line on at least MIN_SHARE of a
    # site's last WINDOW_PAGES distinct pages, and on at least MIN_PAGES of them, is the site's template.
    site_memory_window_pages: int = Field(sitememory.WINDOW_PAGES, ge=1,
                                          description="Distinct pages of a site its template is learnt over")
    site_memory_min_share: float = Field(sitememory.TEMPLATE_MIN_SHARE, gt=0, le=1,
                                         description="Share of the window's pages a template line is on, at least")
    site_memory_min_pages: int = Field(sitememory.TEMPLATE_MIN_PAGES, ge=2,
                                       description="Pages of the window a template line is on, at least")
    site_memory_max_sites: int = Field(sitememory.MAX_SITES, ge=1,
                                       description="Sites remembered at once, the least recently seen forgotten")

    # Reprints (workers/pipeline/reprints.py): an article whose body repeats one published under another
    # URL within the window is marked with `duplicate_of` and `similarity`, or its article and facts are
    # not published at all (`process` writes a `dropped` record; the worker counts it in /metrics).
    reprint_action: Literal["mark", "drop"] = Field("mark", description="What to do with a reprint")
    reprint_threshold: float = Field(SIMILARITY_THRESHOLD, gt=0, le=1,
                                     description="Estimated Jaccard similarity from which a body is a reprint")
    reprint_window_articles: int = Field(WINDOW_ARTICLES, ge=1, description="Articles the reprint index holds")
    reprint_window_age_s: float = Field(WINDOW_AGE_S, gt=0,
                                        description="A reprint's original was fetched at most this long before it")

    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "PLAIN"
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None

    web_host: str = "127.0.0.1"
    web_port: int = Field(6066, description="Health, metrics and inspection page")
    # /inspect shows the full text of the last pages taken and runs the pipeline for whoever asks: without a
    # token it answers callers on the worker's own host only; with one, callers that present it.
    inspect_token: SecretStr | None = Field(None, description="Bearer token for /inspect; without it, /inspect "
                                                              "answers loopback callers only")
    data_dir: Path | None = Field(None, description="faust's local folder (the worker keeps nothing in it); "
                                                    "default: <APP_ID>-data in the system's temporary folder")
    log_level: str = "info"
    log_json: bool = Field(False, description="One JSON object per log line")
    # A line for every page processed costs about 0.15 ms of a page's ~7 ms in a busy worker
    # (bench/RESULTS.md); by default a worker logs what it did every LOG_SUMMARY_S instead.
    log_pages: bool = Field(False, description="One log line per page processed (dead letters always log one)")
    log_summary_s: float = Field(10.0, gt=0, description="Seconds between lines that sum up the pages processed")

    @field_validator("inspect_token")
    @classmethod
    def empty_token_is_none(cls, token: SecretStr | None) -> SecretStr | None:
        return token if token is not None and token.get_secret_value() else None

    @model_validator(mode="after")
    def heartbeats_within_the_session(self) -> "Settings":
        if self.heartbeat_interval_s >= self.session_timeout_s:
            raise ValueError("HEARTBEAT_INTERVAL_S must be below SESSION_TIMEOUT_S (a third of it or less)")
        return self

    @model_validator(mode="after")
    def template_reachable_within_the_window(self) -> "Settings":
        if self.site_memory_min_pages > self.site_memory_window_pages:
            raise ValueError("SITE_MEMORY_MIN_PAGES must not exceed SITE_MEMORY_WINDOW_PAGES "
                             "(no line could be template)")
        return self

    @model_validator(mode="after")
    def one_page_at_a_time_under_exactly_once(self) -> "Settings":
        # A partition's waiting pages are committed with the offset after the last of them (delivery.py):
        # pages processed at once could be published out of order, and a later page's offset would
        # commit an earlier page that is still in the pipeline.
        if self.processing_guarantee == "exactly_once" and self.agent_concurrency != 1:
            raise ValueError("exactly_once needs AGENT_CONCURRENCY=1 (scale with more worker processes)")
        return self

    # Raises inside the pipeline for pages whose text contains this marker; for fault tests only.
    fault_marker: str | None = None

    # A replicated cluster. The worker's producers always ask for acks=all (a write counts once every
    # in-sync replica has it, app.py); with replication 3 and min.insync.replicas 2 no acknowledged output
    # is lost while one broker is down.
    topic_min_insync_replicas: int | None = Field(
        None, ge=1, description="min.insync.replicas of topics the worker creates; default: replication - 1, at least 1")
    broker_nodes: int = Field(1, ge=1, description="Nodes of the cluster `python -m workers broker start` runs locally")

    @model_validator(mode="after")
    def insync_replicas_within_replication(self) -> "Settings":
        # More in-sync replicas asked for than copies exist: every acks=all write would be refused.
        if self.min_insync_replicas > self.topic_replication:
            raise ValueError(f"TOPIC_MIN_INSYNC_REPLICAS={self.min_insync_replicas} exceeds "
                             f"TOPIC_REPLICATION={self.topic_replication}")
        return self

    @property
    def min_insync_replicas(self) -> int:
        return self.topic_min_insync_replicas or max(1, self.topic_replication - 1)


def site_memory_limits(settings: Settings) -> sitememory.Limits:
    return sitememory.Limits(window_pages=settings.site_memory_window_pages, min_share=settings.site_memory_min_share,
                             min_pages=settings.site_memory_min_pages, max_sites=settings.site_memory_max_sites)


def reprint_index(settings: Settings) -> ReprintIndex:
    """An empty reprint index with the configured window and threshold."""
    return ReprintIndex(settings.reprint_window_articles, settings.reprint_window_age_s, settings.reprint_threshold)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def ssl_context(settings: Settings):
    """The TLS context for SSL and SASL_SSL, or None."""
    if not settings.security_protocol.endswith("SSL"):
        return None
    from aiokafka.helpers import create_ssl_context

    return create_ssl_context(
        cafile=settings.ssl_cafile, certfile=settings.ssl_certfile, keyfile=settings.ssl_keyfile
    )


def client_options(settings: Settings) -> dict:
    """Connection options for plain aiokafka clients (admin, feed, tail), matching the worker's."""
    options: dict = {"bootstrap_servers": settings.kafka_bootstrap_servers,
                     "security_protocol": settings.security_protocol}
    if settings.security_protocol.startswith("SASL"):
        options |= {
            "sasl_mechanism": settings.sasl_mechanism,
            "sasl_plain_username": settings.sasl_username,
            "sasl_plain_password": settings.sasl_password.get_secret_value() if settings.sasl_password else None,
        }
    if (context := ssl_context(settings)) is not None:
        options["ssl_context"] = context
    return options


def faust_credentials(settings: Settings):
    """The same connection options in the form faust takes them."""
    import faust

    context = ssl_context(settings)
    if settings.security_protocol.startswith("SASL"):
        return faust.SASLCredentials(
            username=settings.sasl_username,
            password=settings.sasl_password.get_secret_value() if settings.sasl_password else None,
            mechanism=settings.sasl_mechanism,
            ssl_context=context,
        )
    return faust.SSLCredentials(context) if context is not None else None
