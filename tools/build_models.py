"""Build the embedded default models that `make setup` provides (idempotent; quick when current).

* the emotion bundle `tiny` (ONNX fp32 + int8 exported from the committed synthetic-trained ViT), and
* the ONNX export of the `tiny-flux` transformer for the image service's onnx backend.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path


def run(*args: str) -> None:
    print("+ python", " ".join(args), flush=True)
    subprocess.run([sys.executable, *args], check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("build/models"))
    options = parser.parse_args()
    out: Path = options.out
    run(
        "-m", "emotion_service.build.export", "--source", "tiny", "--out", str(out / "emotion" / "tiny"),
        "--precision", "fp32,int8", "--if-missing",
    )  # fmt: skip
    run(
        "-m",
        "image_service.build.export",
        "--variant",
        "tiny-flux",
        "--out",
        str(out / "image" / "tiny-flux-onnx"),
        "--if-missing",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
