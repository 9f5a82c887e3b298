"""The settings of one ``medkg serve`` process, read by the CLI and passed in whole (the app reads no environment)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medkg.errors import MedKGError
from medkg.queries.llm import LLMSettings

MiB = 1024 * 1024


@dataclass(frozen=True)
class ServeConfig:
    """Everything the app needs to know; defaults are the safe ones (loopback, read-only, no CORS)."""

    graph: Path
    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None  # MEDKG_API_TOKEN: required on every request when set; required to bind elsewhere
    write: bool = False  # Cypher may change the graph (--write)
    cors_origins: tuple[str, ...] = ()  # browser origins allowed to call the API from other pages (--cors-origin)
    max_upload_bytes: int = 20 * MiB
    query_timeout_s: float = 10.0  # Cypher and SPARQL
    max_rows: int = 1000  # rows returned by Cypher and SPARQL (more are cut, and the reply says so)
    queue_size: int = 4  # questions waiting for the LLM behind the one it is answering
    job_queue_size: int = 4  # builds and deletes waiting behind the one running
    llm: LLMSettings = field(default_factory=LLMSettings)
    models_dir: Path | None = None
    embedder_path: Path | None = None
    store_options: dict[str, Any] = field(default_factory=dict)
    vocab_dir: Path | None = None  # the loaded-vocabulary library builds use (None: the bundled MeSH alone)
    preload: bool = False  # load the models for questions at start-up rather than on the first question

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    def check(self) -> ServeConfig:
        """Refuse settings that would be unsafe or unusable; returns ``self``."""
        if not self.loopback and not self.token:
            raise MedKGError(f"binding to {self.host} makes the server reachable from other machines; set "
                             "MEDKG_API_TOKEN to a long random string first (every request must then carry it)")
        if self.token is not None and len(self.token) < 16:
            raise MedKGError("MEDKG_API_TOKEN is too short; use at least 16 characters "
                             "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(24))')")
        for name in ("max_upload_bytes", "max_rows", "queue_size", "job_queue_size"):
            if getattr(self, name) < 1:
                raise MedKGError(f"{name} must be at least 1 (got {getattr(self, name)})")
        if self.query_timeout_s <= 0:
            raise MedKGError(f"the query time limit must be positive (got {self.query_timeout_s})")
        return self


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or a name) only reaches this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve anywhere
