"""Settings: the one place environment variables are read (prefix MODELSERVE_).

Built once at the composition root (server, CLI, engine entry point) and passed down.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    return Path.home() / ".modelserve"


class EngineCommand(BaseSettings):
    """How to start one external engine: an interpreter or a command line."""

    model_config = SettingsConfigDict(extra="forbid")

    python: str | None = None
    command: str | None = None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MODELSERVE_", env_nested_delimiter="__", extra="ignore"
    )

    data_dir: Path = Field(default_factory=_default_data_dir)
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    # The public URL clients use to reach this server; defaults to http://host:port.
    public_url: str | None = None
    engine_fallback: bool = True
    # When true, OpenAI routes need an API key (`modelserve keys create`).
    require_api_key: bool = False
    # OTLP traces endpoint for engines that support it (vLLM with enable_telemetry).
    otlp_endpoint: str | None = None
    reconcile_interval_s: float = 0.5
    replica_ready_timeout_s: float = 600.0
    restart_backoff_max_s: float = 30.0
    gateway_refresh_s: float = 0.5
    # Autoscaler: one in-flight sample per interval, averaged over the window (KubeAI: 10 s / 10 min).
    autoscale_interval_s: float = 1.0
    autoscale_window_s: float = 10.0
    upstream_timeout_s: float = 600.0
    engines: dict[str, EngineCommand] = Field(default_factory=dict)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'modelserve.db'}"

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{host}:{self.port}"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    def replica_log(self, run_id: str, index: int) -> Path:
        return self.logs_dir / run_id / f"replica-{index}.log"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"
