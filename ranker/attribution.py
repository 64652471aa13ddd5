"""Who wrote evidence: the submitter (an authenticated identity, or the local operator) and the method used.

The RPC handlers and commands that write evidence declare it once with :func:`submitted_as`; the evidence
store stamps every record it stores in that scope (see :meth:`ranker.evidence.EvidenceStore.add_many`).
The scope is a context variable, so it follows the work into tasks and threads started inside it.
"""

from __future__ import annotations

import contextvars
import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Submitter:
    """Who is writing (``token:ci-importer``, ``certificate:ingest-bot``, ``local:alice``) and through what."""

    identity: str
    method: str


_current: contextvars.ContextVar[Submitter | None] = contextvars.ContextVar("submitter", default=None)


def current() -> Submitter | None:
    """The submitter of the work in progress (None outside any :func:`submitted_as` scope)."""
    return _current.get()


@contextmanager
def submitted_as(submitter: Submitter) -> Iterator[Submitter]:
    """Attribute the evidence stored inside the ``with`` block to ``submitter``."""
    token = _current.set(submitter)
    try:
        yield submitter
    finally:
        _current.reset(token)


def rpc_submitter(identity: object | None, method: str) -> Submitter:
    """The submitter of an RPC: the caller's identity, or a marker when the service runs with auth off."""
    return Submitter(str(identity) if identity is not None else "unauthenticated (auth off)", method)


def local_submitter(command: str) -> Submitter:
    """The submitter of a command run on the ranker's host (the operating-system user)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return Submitter(f"local:{user}", command)
