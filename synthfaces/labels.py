"""The seven expression labels and conversion between names and indices."""

from __future__ import annotations

# Same order as the reference emotion model's ``id2label`` so that indices can be compared directly.
LABELS: tuple[str, ...] = ("sad", "disgust", "angry", "neutral", "fear", "surprise", "happy")


def label_index(label: int | str) -> int:
    """Return the index of ``label`` (an index or a name from :data:`LABELS`).

    Raises:
        ValueError: the label is neither a valid index nor a known name.
    """
    if isinstance(label, str):
        try:
            return LABELS.index(label.strip().lower())
        except ValueError:
            raise ValueError(f"label must be one of {LABELS}, got {label!r}") from None
    if isinstance(label, bool) or not isinstance(label, int):
        raise ValueError(f"label must be an int index or a name, got {type(label).__name__}")
    if not 0 <= label < len(LABELS):
        raise ValueError(f"label index must be in [0, {len(LABELS) - 1}], got {label}")
    return int(label)
