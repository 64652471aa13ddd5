"""Gateway settings: every field is a ``--flag`` and a ``GATEWAY_*`` environment variable."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from servicekit.channels import ClientTLS
from servicekit.settings import BaseSettings, setting


@dataclasses.dataclass(frozen=True)
class GatewaySettings(BaseSettings):
    """HTTP gateway speaking the Hugging Face Inference API to the emoflux gRPC services."""

    env_prefix = "GATEWAY_"
    program = "gateway"

    host: str = setting("127.0.0.1", "Address to bind the HTTP server to (0.0.0.0 in containers).")
    port: int = setting(8080, "HTTP port (0 picks a free port).")
    emotion_addresses: str = setting(
        "127.0.0.1:50051", "emotion_service gRPC address(es); several comma-separated ones are balanced round-robin."
    )
    image_addresses: str = setting(
        "127.0.0.1:50052", "image_service gRPC address(es); several comma-separated ones are balanced round-robin."
    )
    emotion_models: tuple[str, ...] = setting(
        ("emotion",), "Model names served as image-classification by emotion_service (POST /models/<name>)."
    )
    image_models: tuple[str, ...] = setting(
        ("flux",),
        "Model names served as text-to-image by image_service; /models/<name> uses the default variant, "
        "/models/<name>/<variant> a named one.",
    )
    default_top_k: int = setting(5, "Labels returned by image-classification when the request gives no top_k.")
    classify_timeout_seconds: float = setting(30.0, "gRPC deadline of one image-classification call, in seconds.")
    generate_timeout_seconds: float = setting(600.0, "gRPC deadline of one text-to-image call, in seconds.")
    max_body_bytes: int = setting(32 * 1024 * 1024, "Largest HTTP request body accepted (larger gets 413), in bytes.")
    max_message_bytes: int = setting(64 * 1024 * 1024, "Largest gRPC message sent to or received from a service.")
    shutdown_grace_seconds: float = setting(10.0, "On SIGTERM, how long in-flight HTTP requests may take to finish.")
    tls_ca: Path | None = setting(None, "PEM CA bundle to verify the services' certificates; enables TLS upstream.")
    tls_cert: Path | None = setting(None, "PEM client certificate presented to the services (mTLS).")
    tls_key: Path | None = setting(None, "PEM private key of the client certificate.")
    tls_server_name: str | None = setting(None, "Name expected in the services' certificates (overrides the host).")
    auth_mode: str = setting(
        "enforce",
        "enforce: requests need a bearer token with the route's role (health and metrics stay open); "
        "off: no checks (local demos only; logged as a warning).",
        choices=("enforce", "off"),
    )
    auth_tokens_file: Path | None = setting(
        None,
        "File of bearer-token grants, one '<sha256 hex of token> <identity> <role>' per line (the services' format); "
        "re-read on SIGHUP. Classification and metadata need read, text-to-image needs write.",
    )
    auth_anonymous_role: str = setting(
        "none", "Role of requests without a bearer token.", choices=("none", "read", "write", "admin")
    )
    rate_limit_per_second: float = setting(
        10.0, "Sustained requests per second per client (token identity, or address with auth off); 0 disables."
    )
    rate_limit_burst: int = setting(20, "Requests a client may send at once above its sustained rate.")
    max_in_flight_per_client: int = setting(
        4, "Requests one client may have in flight at once (beyond: 429); 0 disables."
    )
    trace_exporter: str = setting(
        "none",
        "OpenTelemetry traces: none (off, no cost), otlp (to --trace-otlp-endpoint) or console (JSON lines on stdout).",
        choices=("none", "otlp", "console"),
    )
    trace_otlp_endpoint: str = setting("http://127.0.0.1:4317", "OTLP/gRPC collector receiving the spans.")
    log_level: str = setting("INFO", "Logging level.", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    access_log: bool = setting(True, "Log one line per HTTP request (method, path, status, duration, request id).")

    def validate(self) -> None:
        """Check ports, limits, model names and that TLS files come in pairs."""
        if not 0 <= self.port <= 65535:
            raise SystemExit(f"port must be in 0..65535, got {self.port}")
        if self.default_top_k < 1:
            raise SystemExit(f"default_top_k must be >= 1, got {self.default_top_k}")
        for name in ("classify_timeout_seconds", "generate_timeout_seconds", "shutdown_grace_seconds"):
            if getattr(self, name) <= 0:
                raise SystemExit(f"{name} must be > 0, got {getattr(self, name)}")
        if self.max_body_bytes < 1024:
            raise SystemExit(f"max_body_bytes must be >= 1024, got {self.max_body_bytes}")
        if self.max_message_bytes < self.max_body_bytes:
            raise SystemExit(
                f"max_message_bytes ({self.max_message_bytes}) must be >= max_body_bytes ({self.max_body_bytes})"
            )
        if not self.emotion_models or not self.image_models:
            raise SystemExit("emotion_models and image_models must each name at least one model")
        overlap = set(self.emotion_models) & set(self.image_models)
        if overlap:
            raise SystemExit(f"emotion_models and image_models share names: {sorted(overlap)}")
        for name in (*self.emotion_models, *self.image_models):
            if not name or "/" in name:
                raise SystemExit(f"model names must be non-empty and contain no '/', got {name!r}")
        if self.auth_tokens_file is not None and not self.auth_tokens_file.is_file():
            raise SystemExit(f"auth_tokens_file {self.auth_tokens_file} is not a readable file")
        if self.rate_limit_per_second < 0 or self.max_in_flight_per_client < 0:
            raise SystemExit("rate_limit_per_second and max_in_flight_per_client must be >= 0")
        if self.rate_limit_burst < 1:
            raise SystemExit(f"rate_limit_burst must be >= 1, got {self.rate_limit_burst}")
        if (self.tls_cert is None) != (self.tls_key is None):
            raise SystemExit("tls_cert and tls_key must be given together")
        if self.tls_cert is not None and self.tls_ca is None:
            raise SystemExit("tls_cert (mTLS) needs tls_ca")

    def client_tls(self) -> ClientTLS | None:
        """TLS settings for the upstream channels, or None for plaintext."""
        if self.tls_ca is None:
            return None
        return ClientTLS(ca=self.tls_ca, cert=self.tls_cert, key=self.tls_key, server_name=self.tls_server_name)
