"""``python -m emotion_service``: serve the emotion classifier (native API + KServe v2) until SIGTERM.

Every setting is a flag and an ``EMOTION_*`` environment variable; ``--help`` lists them.
"""

from __future__ import annotations

import sys

from emotion_service.component import build_component
from emotion_service.settings import EmotionSettings
from servicekit.server import run_service


def main() -> int:
    """Parse settings, then serve until stopped; the exit code is 1 when start-up failed."""
    return run_service(EmotionSettings.load(), build_component)


if __name__ == "__main__":
    sys.exit(main())
