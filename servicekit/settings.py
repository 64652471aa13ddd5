"""Settings declared once as dataclass fields, readable from CLI flags and environment variables.

Every field of a settings dataclass becomes a ``--kebab-case`` flag (``--x/--no-x`` for a boolean) and a
``PREFIX_UPPER_CASE`` environment variable (a boolean one takes true/false, yes/no, on/off or 1/0).
Precedence: flag > environment > default. The field's ``help`` metadata is the single place a setting is
documented; ``--help`` and :func:`describe` render it.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Self, TypeVar

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}

T = TypeVar("T")


def setting(default: Any, help: str, *, choices: Sequence[str] | None = None) -> Any:
    """Declare a settings field with its default and the one line that documents it."""
    return dataclasses.field(default=default, metadata={"help": help, "choices": choices})


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"expected a boolean (one of {sorted(_TRUE | _FALSE)}), got {text!r}")


def _converter(annotation: Any) -> tuple[Any, bool]:
    """Return (conversion function, optional) for a field annotation."""
    origin = typing.get_origin(annotation)
    optional = False
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(args) != len(typing.get_args(annotation))
        annotation = args[0]
        origin = typing.get_origin(annotation)
    if origin is tuple:
        (inner, *_rest) = typing.get_args(annotation)
        inner_conv, _ = _converter(inner)

        def parse_tuple(text: str) -> tuple[Any, ...]:
            return tuple(inner_conv(part.strip()) for part in text.split(",") if part.strip())

        return parse_tuple, optional
    if annotation is bool:
        return _parse_bool, optional
    if annotation in (int, float, str, Path):
        return annotation, optional
    raise TypeError(f"unsupported settings type {annotation!r}")


@dataclasses.dataclass(frozen=True)
class BaseSettings:
    """Base class: subclasses add fields with :func:`setting` and set ``env_prefix``."""

    env_prefix: ClassVar[str] = "EMOFLUX_"
    program: ClassVar[str] = "emoflux"

    @classmethod
    def env_name(cls, field_name: str) -> str:
        """The environment variable that sets ``field_name``."""
        return f"{cls.env_prefix}{field_name.upper()}"

    @classmethod
    def flag(cls, field_name: str, annotation: Any = None) -> str:
        """The command-line spelling of a field: ``--x``, or ``--x/--no-x`` for a boolean."""
        flag = "--" + field_name.replace("_", "-")
        return f"{flag}/--no-{flag[2:]}" if annotation is bool else flag

    @classmethod
    def _fields(cls) -> list[tuple[dataclasses.Field[Any], Any]]:
        hints = typing.get_type_hints(cls)
        return [(f, hints[f.name]) for f in dataclasses.fields(cls)]

    @classmethod
    def parser(cls) -> argparse.ArgumentParser:
        """An argparse parser with one flag per field (defaults resolved by :meth:`load`)."""
        parser = argparse.ArgumentParser(
            prog=cls.program,
            description=(cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else None,
            formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        )
        for field, annotation in cls._fields():
            conv, _ = _converter(annotation)
            flag = "--" + field.name.replace("_", "-")
            help_text = f"{field.metadata.get('help', '')} [env {cls.env_name(field.name)}]"
            if annotation is bool:
                # --x / --no-x, the convention of most CLIs; the environment variable still takes true/false.
                parser.add_argument(
                    flag,
                    dest=field.name,
                    action=argparse.BooleanOptionalAction,
                    default=argparse.SUPPRESS,
                    help=help_text + f" (default: {'on' if field.default else 'off'})",
                )
                continue
            parser.add_argument(
                flag,
                dest=field.name,
                type=conv,
                default=argparse.SUPPRESS,
                choices=field.metadata.get("choices"),
                help=help_text + f" (default: {field.default!r})",
            )
        return parser

    @classmethod
    def load(cls, argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> Self:
        """Build settings from defaults, then the environment, then CLI flags."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for field, annotation in cls._fields():
            name = cls.env_name(field.name)
            if name in env:
                conv, optional = _converter(annotation)
                raw = env[name]
                try:
                    values[field.name] = None if (optional and raw == "") else conv(raw)
                except ValueError as exc:
                    raise SystemExit(f"invalid value for {name}: {exc}") from exc
                choices = field.metadata.get("choices")
                if choices and values[field.name] not in choices:
                    raise SystemExit(f"invalid value for {name}: {raw!r} is not one of {list(choices)}")
        parsed = cls.parser().parse_args(list(argv) if argv is not None else None)
        values.update(vars(parsed))
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        """Reject inconsistent settings with a message naming the field (override to add checks)."""

    @classmethod
    def describe(cls) -> str:
        """A Markdown table of every setting: flag, environment variable, default, meaning."""
        lines = ["| flag | environment | default | meaning |", "|---|---|---|---|"]
        for field, annotation in cls._fields():
            flag = cls.flag(field.name, annotation)
            lines.append(
                f"| `{flag}` | `{cls.env_name(field.name)}` | `{field.default!r}` | {field.metadata.get('help', '')} |"
            )
        return "\n".join(lines)


@dataclasses.dataclass(frozen=True)
class ServerSettings(BaseSettings):
    """Settings every gRPC service shares: network, limits, TLS, drain, logging."""

    host: str = setting("127.0.0.1", "Address to bind the gRPC server to (0.0.0.0 in containers).")
    port: int = setting(0, "gRPC port (0 picks a free port).")
    metrics_port: int = setting(0, "Port of the Prometheus /metrics HTTP endpoint (0 picks a free port, -1 disables).")
    max_message_bytes: int = setting(64 * 1024 * 1024, "Largest gRPC message accepted or sent, in bytes.")
    max_concurrent_rpcs: int = setting(1024, "RPCs served at once; beyond this new calls get RESOURCE_EXHAUSTED.")
    max_streams_per_connection: int = setting(
        0,
        "Most calls one client connection may have open at once (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS); the "
        "client's further calls wait in its own transport, so one flooding connection cannot fill the server's "
        "intake ahead of other clients. 0: gRPC's default (no limit).",
    )
    grace_seconds: float = setting(10.0, "On SIGTERM, how long in-flight calls may take to finish before cancellation.")
    drain_delay_seconds: float = setting(
        0.5, "On SIGTERM, how long new calls get UNAVAILABLE (health NOT_SERVING) before the port closes."
    )
    keepalive_seconds: float = setting(30.0, "Interval of server keepalive pings on idle connections, in seconds.")
    keepalive_timeout_seconds: float = setting(10.0, "How long to wait for a keepalive ping ack before closing.")
    tls_cert: Path | None = setting(None, "PEM server certificate chain; enables TLS together with --tls-key.")
    tls_key: Path | None = setting(None, "PEM private key of the server certificate.")
    tls_client_ca: Path | None = setting(None, "PEM CA bundle; when set, clients must present a certificate (mTLS).")
    auth_mode: str = setting(
        "enforce",
        "enforce: every method needs its declared role (reads open by default, writes need a granted identity); "
        "off: no checks at all (local demos only; logged as a warning).",
        choices=("enforce", "off"),
    )
    auth_tokens_file: Path | None = setting(
        None,
        "File of bearer-token grants, one '<sha256 hex of token> <identity> <role>' per line; re-read on SIGHUP.",
    )
    auth_anonymous_role: str = setting(
        "read", "Role of callers without a token or client certificate.", choices=("none", "read", "write", "admin")
    )
    auth_readers: tuple[str, ...] = setting((), "mTLS client-certificate names (CN or SAN) granted the read role.")
    auth_writers: tuple[str, ...] = setting((), "mTLS client-certificate names (CN or SAN) granted the write role.")
    auth_admins: tuple[str, ...] = setting((), "mTLS client-certificate names (CN or SAN) granted the admin role.")
    trace_exporter: str = setting(
        "none",
        "OpenTelemetry traces: none (off, no cost), otlp (to --trace-otlp-endpoint) or console (JSON lines on stdout).",
        choices=("none", "otlp", "console"),
    )
    trace_otlp_endpoint: str = setting("http://127.0.0.1:4317", "OTLP/gRPC collector receiving the spans.")
    log_level: str = setting("INFO", "Logging level.", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    access_log: bool = setting(True, "Log one line per RPC (method, code, duration, request id).")

    def validate(self) -> None:
        """Check ports, limits and that TLS files come in pairs."""
        for name in ("port", "metrics_port"):
            value = getattr(self, name)
            if not -1 <= value <= 65535:
                raise SystemExit(f"{name} must be in 0..65535 (or -1 for metrics_port), got {value}")
        if (self.tls_cert is None) != (self.tls_key is None):
            raise SystemExit("tls_cert and tls_key must be given together")
        if self.tls_client_ca is not None and self.tls_cert is None:
            raise SystemExit("tls_client_ca (mTLS) needs tls_cert and tls_key")
        if self.max_message_bytes < 1024:
            raise SystemExit(f"max_message_bytes must be >= 1024, got {self.max_message_bytes}")
        if self.max_streams_per_connection < 0:
            raise SystemExit(
                f"max_streams_per_connection must be >= 0 (0: no limit), got {self.max_streams_per_connection}"
            )
        if self.drain_delay_seconds < 0:
            raise SystemExit(f"drain_delay_seconds must be >= 0, got {self.drain_delay_seconds}")
        if self.auth_tokens_file is not None and not self.auth_tokens_file.is_file():
            raise SystemExit(f"auth_tokens_file {self.auth_tokens_file} is not a readable file")
        if (self.auth_readers or self.auth_writers or self.auth_admins) and self.tls_client_ca is None:
            raise SystemExit("auth_readers/auth_writers/auth_admins name client certificates: they need tls_client_ca")
        if self.grace_seconds < 0:
            raise SystemExit(f"grace_seconds must be >= 0, got {self.grace_seconds}")


S = TypeVar("S", bound=ServerSettings)


def settings_as(settings: ServerSettings, kind: type[S]) -> S:
    """``settings`` narrowed to the service's own settings class (what a ``build_component`` receives).

    Raises:
        TypeError: ``settings`` is another service's settings (a wiring mistake, not a client error).
    """
    if not isinstance(settings, kind):
        raise TypeError(f"expected {kind.__name__}, got {type(settings).__name__}")
    return settings
