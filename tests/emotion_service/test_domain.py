"""The one check of a tensor request's shape (both the runtime and the KServe API rely on it)."""

from __future__ import annotations

import pytest

from emotion_service.domain import check_tensor_shape
from servicekit.errors import InvalidInput

INPUT = (3, 64, 64)


@pytest.mark.parametrize("shape", [(1, 3, 64, 64), (8, 3, 64, 64)])
def test_shapes_that_fit(shape: tuple[int, ...]) -> None:
    check_tensor_shape(shape, INPUT, max_batch_size=8)


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ((3, 64, 64), r"pixel_values: shape \[3, 64, 64\] does not match \[-1, 3, 64, 64\]"),
        ((1, 3, 64, 63), "does not match"),
        ((1, 1, 64, 64), "does not match"),
        ((0, 3, 64, 64), "does not match"),
        ((9, 3, 64, 64), "pixel_values: batch size 9 exceeds max_batch_size 8"),
    ],
)
def test_shapes_that_do_not(shape: tuple[int, ...], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        check_tensor_shape(shape, INPUT, max_batch_size=8)
