"""Processes the fault tests start beyond :mod:`tests.e2e.procs`: the HTTP gateway, and bearer tokens for it."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from servicekit.auth import hash_token, new_token
from tests.e2e.procs import REPO, Launcher, ServiceProcess


@dataclass
class GatewayProcess(ServiceProcess):
    """The HTTP gateway as a subprocess: one port serves the routes, /health and /metrics."""

    def start(self, log_dir: Path) -> None:
        """Start ``python -m gateway`` on ``port`` (it has no separate metrics port)."""
        self.metrics_port = self.port
        self.log_path = log_dir / f"{self.name}.log"
        self.log = self.log_path.open("wb")
        command = [sys.executable, "-m", "gateway", "--port", str(self.port), *self.extra]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(command, cwd=REPO, stdout=self.log, stderr=subprocess.STDOUT, env=env)

    def wait_answering(self, timeout: float = 60.0) -> None:
        """Wait until GET /health answers at all (503 while an upstream is down is an answer)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.alive, self.log_tail(30)
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            try:
                connection.request("GET", "/health")
                connection.getresponse().read()
                return
            except OSError:
                time.sleep(0.3)
            finally:
                connection.close()
        raise AssertionError(f"gateway not answering after {timeout:.0f} s:\n{self.log_tail(30)}")


@dataclass(frozen=True)
class Tokens:
    """A read and a write bearer token, and the tokens file that grants them."""

    read: str
    write: str
    path: Path


def write_tokens(folder: Path) -> Tokens:
    """Fresh tokens and their grants file in ``folder``."""
    read, write = new_token(), new_token()
    path = folder / "tokens.txt"
    path.write_text(f"{hash_token(read)} fuzz-reader read\n{hash_token(write)} fuzz-writer write\n")
    return Tokens(read, write, path)


def start_gateway(launcher: Launcher, emotion: str, image: str, tokens: Tokens) -> GatewayProcess:
    """The gateway in front of ``emotion`` and ``image``: tokens enforced, per-client limits off."""
    flags = [
        "--emotion-addresses", emotion, "--image-addresses", image, "--auth-tokens-file", str(tokens.path),
        "--rate-limit-per-second", "0", "--max-in-flight-per-client", "0", "--max-body-bytes", str(1024 * 1024),
        "--classify-timeout-seconds", "20", "--generate-timeout-seconds", "20",
    ]  # fmt: skip
    process = GatewayProcess("gateway", "gateway", "", extra=flags)
    process.start(launcher.log_dir)
    launcher.started.append(process)
    process.wait_answering()
    return process
