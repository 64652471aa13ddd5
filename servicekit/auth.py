"""Who may call what: identities from bearer tokens and mTLS certificates, roles, per-method policies.

One mechanism for every service:

* Each servicer declares the role every one of its methods needs (an :data:`AccessPolicy`, next to the
  servicer) and hands it to :class:`~servicekit.server.ServicerRegistration`.
* :class:`AuthHook` (run by the server's :class:`~servicekit.interceptors.CallInterceptor`) resolves the
  caller's identity once per call and refuses the call before the
  handler runs when the identity lacks the role: ``UNAUTHENTICATED`` for an unknown bearer token,
  ``PERMISSION_DENIED`` for a known caller without the role. A method of a served service that has no
  declared role is refused (fail closed). Health and reflection are not part of any component and stay open.
* Identities come from bearer tokens (``authorization: Bearer <token>`` metadata, checked against SHA-256
  digests in a tokens file that is re-read on SIGHUP) and from the mTLS client certificate (its common name
  and subject alternative names, granted roles by allow-lists). Callers that present neither are
  ``anonymous`` with the anonymous role (``read`` by default).

Roles are ordered: ``admin`` includes ``write``, which includes ``read``.
"""

from __future__ import annotations

import contextvars
import enum
import hashlib
import hmac
import logging
import secrets
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import grpc

from servicekit.errors import PermissionDenied, Unauthenticated
from servicekit.interceptors import BoundHook, MethodInfo, current_peer

log = logging.getLogger("emoflux.auth")

AUTHORIZATION_HEADER = "authorization"
_BEARER = "bearer "


class Role(enum.IntEnum):
    """What a caller may do; a higher role includes the lower ones."""

    NONE = 0
    READ = 1
    WRITE = 2
    ADMIN = 3

    @classmethod
    def parse(cls, text: str) -> Role:
        """``read`` / ``write`` / ``admin`` / ``none`` (case-insensitive)."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown role {text!r}: expected one of none, read, write, admin") from None

    @property
    def label(self) -> str:
        """The lower-case name used in files, flags and messages."""
        return self.name.lower()


AccessPolicy = Mapping[str, Role]
"""Method name (``Classify``) -> the role it needs. Declared next to each servicer."""


@dataclass(frozen=True)
class Identity:
    """An authenticated (or anonymous) caller and the role it holds."""

    name: str
    role: Role
    source: str  # "token", "certificate" or "anonymous"

    def __str__(self) -> str:
        return f"{self.source}:{self.name}"


ANONYMOUS_NAME = "anonymous"
_current: contextvars.ContextVar[Identity | None] = contextvars.ContextVar("identity", default=None)


def current_identity() -> Identity | None:
    """The identity of the caller of the RPC being handled (None outside an RPC or with auth off)."""
    return _current.get()


def current_client() -> str | None:
    """Who to count a call against for fair sharing: an authenticated identity, else the caller's connection.

    Anonymous callers are told apart by their transport address (one per connection), so a client that opens
    many connections gets many shares: give heavy users tokens to hold them to one.
    """
    identity = current_identity()
    if identity is not None and identity.source != "anonymous":
        return str(identity)
    return current_peer()


def hash_token(token: str) -> str:
    """The SHA-256 hex digest under which a token is stored (tokens themselves are never stored)."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class TokenGrant:
    """One line of a tokens file: a token digest, who it identifies, and the role it grants."""

    digest: str
    identity: str
    role: Role


def parse_tokens(text: str, *, source: str = "tokens file") -> list[TokenGrant]:
    """Parse a tokens file: ``<sha256 hex> <identity> <role>`` per line; ``#`` starts a comment."""
    grants: list[TokenGrant] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 3:
            raise ValueError(f"{source} line {number}: expected '<sha256 hex> <identity> <role>', got {raw!r}")
        digest, identity, role_text = parts
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest.lower()):
            raise ValueError(f"{source} line {number}: the first field must be a 64-digit SHA-256 hex digest")
        try:
            role = Role.parse(role_text)
        except ValueError as exc:
            raise ValueError(f"{source} line {number}: {exc}") from None
        grants.append(TokenGrant(digest.lower(), identity, role))
    return grants


class TokenStore:
    """Bearer tokens by digest, loaded from a file and reloadable without a restart."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._grants: dict[str, TokenGrant] = {}
        self._lock = threading.Lock()
        self.reload()

    def reload(self) -> None:
        """Re-read the file. A file that does not parse keeps the previous grants (and logs why)."""
        if self.path is None:
            return
        try:
            grants = parse_tokens(self.path.read_text(), source=str(self.path))
        except (OSError, ValueError) as exc:
            if not self._grants:
                raise
            log.error("tokens file not reloaded, keeping %d previous grants: %s", len(self._grants), exc)
            return
        with self._lock:
            self._grants = {g.digest: g for g in grants}
        log.info("loaded %d bearer token(s) from %s", len(grants), self.path)

    def lookup(self, token: str) -> TokenGrant | None:
        """The grant of ``token``, compared by digest in constant time."""
        digest = hash_token(token)
        with self._lock:
            candidates = list(self._grants.values())
        match = None
        for grant in candidates:
            if hmac.compare_digest(grant.digest, digest):
                match = grant
        return match

    def __len__(self) -> int:
        return len(self._grants)


def certificate_roles(
    readers: Iterable[str] = (), writers: Iterable[str] = (), admins: Iterable[str] = ()
) -> dict[str, Role]:
    """Certificate names (common name or SAN) -> the highest role any allow-list gives them."""
    roles: dict[str, Role] = {}
    for role, names in ((Role.READ, readers), (Role.WRITE, writers), (Role.ADMIN, admins)):
        for name in names:
            roles[name] = max(roles.get(name, Role.NONE), role)
    return roles


def certificate_names(auth_context: Mapping[str, Sequence[bytes]]) -> list[str]:
    """The names a verified client certificate carries: its common name, then its subject alternative names."""
    names: list[str] = []
    for key in ("x509_common_name", "x509_subject_alternative_name"):
        for value in auth_context.get(key, ()):
            text = value.decode(errors="replace") if isinstance(value, bytes) else str(value)
            if text not in names:
                names.append(text)
    return names


def bearer_token(metadata: Iterable[tuple[str, str | bytes]]) -> str | None:
    """The token of an ``authorization: Bearer <token>`` header, or None when there is none.

    Raises Unauthenticated for an ``authorization`` header that is not a bearer token.
    """
    for key, value in metadata:
        if key.lower() != AUTHORIZATION_HEADER:
            continue
        text = value.decode(errors="replace") if isinstance(value, bytes) else value
        if not text.lower().startswith(_BEARER) or not text[len(_BEARER) :].strip():
            raise Unauthenticated("authorization: expected 'Bearer <token>'")
        return text[len(_BEARER) :].strip()
    return None


class Authorizer:
    """Resolves callers to identities and checks them against the declared method policies."""

    def __init__(
        self,
        *,
        policies: Mapping[str, AccessPolicy],
        tokens: TokenStore | None = None,
        cert_roles: Mapping[str, Role] | None = None,
        anonymous_role: Role = Role.READ,
    ) -> None:
        self.tokens = tokens or TokenStore(None)
        self.cert_roles = dict(cert_roles or {})
        self.anonymous_role = anonymous_role
        # Full method path -> role; services with a policy are guarded, all others (health, reflection) open.
        self._required: dict[str, Role] = {}
        self._guarded_services = set(policies)
        for service, policy in policies.items():
            for method, role in policy.items():
                self._required[f"/{service}/{method}"] = role

    def guards(self, full_method: str) -> bool:
        """Whether calls of ``full_method`` are checked (methods of served services; not health or reflection)."""
        return full_method.lstrip("/").partition("/")[0] in self._guarded_services

    def required_role(self, full_method: str) -> Role | None:
        """The role ``full_method`` needs; None when its service declared none for it."""
        return self._required.get(full_method)

    def identify(
        self, metadata: Iterable[tuple[str, str | bytes]], auth_context: Mapping[str, Sequence[bytes]]
    ) -> Identity:
        """Who is calling: a bearer token wins over a certificate, which wins over anonymous."""
        token = bearer_token(metadata)
        if token is not None:
            grant = self.tokens.lookup(token)
            if grant is None:
                raise Unauthenticated("authorization: unknown or revoked bearer token")
            return Identity(grant.identity, grant.role, "token")
        best: Identity | None = None
        for name in certificate_names(auth_context):
            role = self.cert_roles.get(name, Role.NONE)
            if best is None or role > best.role:
                best = Identity(name, max(role, self.anonymous_role), "certificate")
        if best is not None:
            return best
        return Identity(ANONYMOUS_NAME, self.anonymous_role, "anonymous")

    def authorize(self, full_method: str, identity: Identity) -> None:
        """Raise PermissionDenied / Unauthenticated when ``identity`` may not call ``full_method``."""
        if not self.guards(full_method):
            return
        method = full_method.rsplit("/", 1)[-1]
        required = self.required_role(full_method)
        if required is None:
            # A served method nobody declared a role for: refuse rather than guess.
            raise PermissionDenied(f"{method}: no access policy is declared for this method")
        if identity.role >= required:
            return
        if identity.source == "anonymous":
            raise Unauthenticated(
                f"{method} needs the {required.label} role and anonymous callers have {identity.role.label}: "
                "present a bearer token (authorization: Bearer <token>) or a client certificate that grants it"
            )
        raise PermissionDenied(
            f"{method} needs the {required.label} role; {identity} has {identity.role.label} "
            "(roles are granted by the tokens file or the certificate allow-lists)"
        )


class AuthHook:
    """Checks every call of a guarded method before its handler runs (an inner hook: refusals become statuses)."""

    def __init__(self, authorizer: Authorizer) -> None:
        self.authorizer = authorizer

    def bind(self, method: MethodInfo) -> BoundHook | None:
        """Health, reflection and other unguarded methods pass unchecked."""
        if not self.authorizer.guards(method.full_name):
            return None
        return _MethodAuth(self.authorizer, method.full_name)


class _MethodAuth:
    def __init__(self, authorizer: Authorizer, full_method: str) -> None:
        self._authorizer = authorizer
        self._method = full_method

    def enter(self, context: grpc.aio.ServicerContext) -> contextvars.Token[Identity | None]:
        identity = self._authorizer.identify(context.invocation_metadata() or (), context.auth_context() or {})
        self._authorizer.authorize(self._method, identity)
        return _current.set(identity)

    def exit(
        self, state: contextvars.Token[Identity | None], code: grpc.StatusCode, error: BaseException | None
    ) -> None:
        _current.reset(state)


def new_token() -> str:
    """A fresh random bearer token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m servicekit.auth --identity NAME --role ROLE``: issue a token.

    Prints the tokens-file line (the digest, never the token) on stdout, to append to the file, and the token
    itself on stderr, to hand to the client once.
    """
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m servicekit.auth", description=main.__doc__)
    parser.add_argument("--identity", required=True, help="who the token identifies (recorded with what it writes)")
    parser.add_argument("--role", required=True, choices=("read", "write", "admin"))
    args = parser.parse_args(argv)
    if any(c.isspace() for c in args.identity) or not args.identity:
        parser.error("--identity must be one word")
    token = new_token()
    print(f"{hash_token(token)} {args.identity} {args.role}")
    print(f"token for {args.identity} ({args.role}): {token}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
