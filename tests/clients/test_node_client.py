"""The Node.js client (clients/node) against real services: npm ci, the generated types, node --test, the CLI.

Starts emotion_service (tiny bundle), image_service (tiny-flux) and the ranker in-process on port 0, plus an
emotion_service that requires mTLS with certificates made here, and hands their addresses and PEM files to
the node tests through environment variables. The ranker and the mTLS service check bearer tokens against a
tokens file made here (one token per role), so the client's writes succeed with a write token and are refused
without one. Fast checks (types up to date, same retry policy as the Python channels, publishable package)
run without services.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from servicekit.auth import hash_token, new_token
from servicekit.channels import service_config
from tests.gateway.services import emotion_server, image_server, ranker_server, require_services
from tests.servicekit.pki import _issue, _key, _write

REPO = Path(__file__).resolve().parents[2]
NODE_CLIENT = REPO / "clients" / "node"
HUB_SNAPSHOTS = REPO / "tests" / "ranker" / "data" / "hub"

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None, reason="Node.js/npm not installed"
)


def _node(*args: str, timeout: float = 300, cwd: Path = NODE_CLIENT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def installed() -> Path:
    """``npm ci`` once (a no-op-fast reinstall when node_modules is current)."""
    done = _node("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
    assert done.returncode == 0, done.stdout + done.stderr
    return NODE_CLIENT


async def _run(*command: str, env: dict[str, str], timeout: float) -> tuple[int, str]:
    """Run a command without blocking the event loop that serves the services."""
    process = await asyncio.create_subprocess_exec(
        *command, cwd=NODE_CLIENT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    return int(process.returncode or 0), output.decode(errors="replace")


def _count(output: str, name: str) -> int:
    match = re.search(rf"^# {name} (\d+)$", output, re.MULTILINE)
    assert match, f"no '# {name}' line in node's output:\n{output[-3000:]}"
    return int(match.group(1))


def test_generated_types_match_the_protos(installed: Path, tmp_path: Path) -> None:
    """types/generated is what ``npm run generate`` makes from protos/ today (regenerate after a .proto change)."""
    done = _node("node", "scripts/generate-types.js", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    committed = NODE_CLIENT / "types" / "generated"
    fresh = {p.relative_to(tmp_path): p.read_text() for p in tmp_path.rglob("*.ts")}
    assert fresh and fresh == {p.relative_to(committed): p.read_text() for p in committed.rglob("*.ts")}, (
        "clients/node/types/generated is stale: run npm run generate in clients/node"
    )


@pytest.mark.e2e
@pytest.mark.slow  # tsc takes ~20 s on a busy 2-core machine; it runs with the Node client's end-to-end suite
def test_typescript_users_get_checked_types(installed: Path) -> None:
    done = _node("npx", "--no-install", "tsc", "-p", "tsconfig.json")
    assert done.returncode == 0, done.stdout + done.stderr


def test_node_retry_policy_is_the_python_channels_policy(installed: Path) -> None:
    script = "console.log(JSON.stringify(require('./index.js').serviceConfig()))"
    done = _node("node", "-e", script)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == json.loads(service_config())


def test_packed_package_works_outside_the_repository(installed: Path, tmp_path: Path) -> None:
    """npm pack bundles the protos; the unpacked package loads them with no repository around it."""
    done = _node("npm", "pack", "--json", "--pack-destination", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    (packed,) = json.loads(done.stdout)
    files = {f["path"] for f in packed["files"]}
    for needed in (
        "index.js", "cli.js", "lib/channel.js", "lib/calls.js", "types/index.d.ts",
        "proto/emoflux/emotion/v1/emotion.proto", "proto/emoflux/image/v1/image.proto",
        "proto/emoflux/ranker/v1/ranker.proto", "vendor/grpc/health/v1/health.proto",
        "types/generated/emoflux/emotion/v1/ClassifyRequest.ts",
    ):  # fmt: skip
        assert needed in files, needed
    assert not any(f.startswith(("test/", "node_modules/")) for f in files)
    assert not (NODE_CLIENT / "proto").exists(), "postpack leaves no copy behind in the checkout"
    with tarfile.open(tmp_path / packed["filename"]) as tar:
        tar.extractall(tmp_path, filter="data")
    package = tmp_path / "package"
    (package / "node_modules").symlink_to(NODE_CLIENT / "node_modules")
    script = (
        "const c = require('./index.js'); const p = c.loadPackages();"
        "console.log(c.protoRoot(), Object.keys(p.emoflux.ranker.v1.RankerService.service).length)"
    )
    loaded = _node("node", "-e", script, cwd=package)
    assert loaded.returncode == 0, loaded.stderr
    root, methods = loaded.stdout.split()
    assert Path(root) == package / "proto" and methods == "11"


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, Path]:
    """A CA, a server certificate for localhost/127.0.0.1 and a client certificate, as PEM files."""
    ca_key = _key()
    ca_cert = _issue("emoflux-node-test-ca", ca_key, ca_key, None, ca=True)
    _, ca_path = _write(tmp_path / "ca", ca_key, ca_cert)
    files = {"ca": ca_path}
    for who in ("server", "client"):
        key = _key()
        files[f"{who}_key"], files[f"{who}_cert"] = _write(
            tmp_path / who, key, _issue(who, key, ca_key, ca_cert.subject, ca=False)
        )
    return files


def _tokens_file(folder: Path) -> tuple[Path, dict[str, str]]:
    """A tokens file granting one fresh token per role (identities node-reader, node-writer, node-admin)."""
    tokens = {role: new_token() for role in ("read", "write", "admin")}
    path = folder / "tokens.txt"
    names = {"read": "node-reader", "write": "node-writer", "admin": "node-admin"}
    path.write_text("".join(f"{hash_token(t)} {names[role]} {role}\n" for role, t in tokens.items()))
    return path, tokens


def _writable_catalog(folder: Path) -> Path:
    """A copy of the bundled catalog that AddModel may write new cards into."""
    from ranker.catalog import BUNDLED_DIR

    folder.mkdir()
    for card in BUNDLED_DIR.glob("*.yaml"):
        (folder / card.name).write_text(card.read_text())
    return folder


@pytest.mark.e2e
@pytest.mark.slow
async def test_node_client_against_the_three_services(installed: Path, tmp_path: Path, pki: dict[str, Path]) -> None:
    require_services("emotion_service", "image_service", "ranker")
    from ranker.component import RankerComponent

    env = {k: v for k, v in os.environ.items() if k != "EMOFLUX_TOKEN"}
    tokens_file, tokens = _tokens_file(tmp_path)
    auth = {"auth_mode": "enforce", "auth_tokens_file": tokens_file}
    # mTLS and a token: the certificate alone grants nothing (anonymous role none, no certificate allow-list).
    mtls = {"tls_cert": pki["server_cert"], "tls_key": pki["server_key"], "tls_client_ca": pki["ca"]}
    secure_auth = {**mtls, **auth, "auth_anonymous_role": "none"}
    async with emotion_server() as emotion, image_server() as image, emotion_server(**secure_auth) as secure:
        emotion_address, image_address = f"127.0.0.1:{emotion.port}", f"127.0.0.1:{image.port}"
        catalog = _writable_catalog(tmp_path / "catalog")
        database = tmp_path / "evidence.sqlite3"
        async with ranker_server(emotion_address, image_address, database, catalog_dir=catalog, **auth) as ranker:
            # Two rounds of the schedule's history step, so GetScoreHistory has something to list in order.
            component = ranker.component
            assert isinstance(component, RankerComponent)
            for _ in range(2):
                await asyncio.to_thread(component.record_history)
            env.update(
                EMOFLUX_EMOTION_ADDRESS=emotion_address,
                EMOFLUX_IMAGE_ADDRESS=image_address,
                EMOFLUX_RANKER_ADDRESS=f"127.0.0.1:{ranker.port}",
                EMOFLUX_TEST_TLS_ADDRESS=f"127.0.0.1:{secure.port}",
                EMOFLUX_TEST_TLS_CA=str(pki["ca"]),
                EMOFLUX_TEST_TLS_CERT=str(pki["client_cert"]),
                EMOFLUX_TEST_TLS_KEY=str(pki["client_key"]),
                EMOFLUX_TEST_READ_TOKEN=tokens["read"],
                EMOFLUX_TEST_WRITE_TOKEN=tokens["write"],
                EMOFLUX_TEST_ADMIN_TOKEN=tokens["admin"],
                EMOFLUX_TEST_HUB_DIR=str(HUB_SNAPSHOTS),
            )
            code, output = await _run("node", "--test", "test/", env=env, timeout=600)
            demo_code, demo = await _run("node", "cli.js", "all", "--steps", "2", "--seed", "3", env=env, timeout=300)
    assert code == 0, output[-6000:]
    assert (_count(output, "fail"), _count(output, "skipped")) == (0, 0), output[-6000:]
    assert _count(output, "pass") == 33
    # The command-line client prints each call's outcome, the stream's step events included.
    assert demo_code == 0, demo
    assert "classify: model" in demo and "step 2/2" in demo and "completed: 64x64" in demo and "verdict:" in demo
