"""File digests and library versions recorded in model manifests."""

from __future__ import annotations

import hashlib
import platform
from importlib import metadata
from pathlib import Path

from servicekit.provenance import NOT_INSTALLED, library_versions, sha256_file


def test_sha256_file_streams_past_one_chunk(tmp_path: Path) -> None:
    data = bytes(range(256)) * 9000  # 2.3 MB: more than two 1 MiB chunks
    path = tmp_path / "weights.bin"
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()


def test_library_versions_names_python_and_missing_packages() -> None:
    versions = library_versions(["numpy", "no-such-distribution-emoflux"])
    assert versions == {
        "python": platform.python_version(),
        "numpy": metadata.version("numpy"),
        "no-such-distribution-emoflux": NOT_INSTALLED,
    }
