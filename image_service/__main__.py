"""``python -m image_service``: serve FLUX text-to-image until SIGTERM.

Every setting is a flag and an ``IMAGE_*`` environment variable; ``--help`` lists them.
"""

from __future__ import annotations

import sys

from image_service.component import build_component
from image_service.settings import ImageSettings
from servicekit.server import run_service


def main(argv: list[str] | None = None) -> int:
    """Parse settings, then serve until stopped; the exit code is 1 when start-up failed."""
    return run_service(ImageSettings.load(argv), build_component)


if __name__ == "__main__":
    sys.exit(main())
