"""Weights-origin conversion through each service's own WeightsOrigin enum."""

from __future__ import annotations

import pytest

from servicekit.pb.emoflux.emotion.v1 import emotion_pb2
from servicekit.pb.emoflux.image.v1 import image_pb2
from servicekit.pb.emoflux.ranker.v1 import ranker_pb2
from servicekit.wire import WEIGHTS_ORIGINS, weights_origin_from_pb, weights_origin_to_pb

ENUMS = [emotion_pb2.WeightsOrigin, image_pb2.WeightsOrigin, ranker_pb2.WeightsOrigin]


@pytest.mark.parametrize("enum", ENUMS)
def test_every_origin_maps_to_its_enum_value_and_back(enum: type[int]) -> None:
    expected = {
        "random": "WEIGHTS_ORIGIN_RANDOM",
        "synthetic-trained": "WEIGHTS_ORIGIN_SYNTHETIC_TRAINED",
        "pretrained": "WEIGHTS_ORIGIN_PRETRAINED",
    }
    assert set(WEIGHTS_ORIGINS) == set(expected)
    for origin, name in expected.items():
        number = weights_origin_to_pb(origin, enum)
        assert enum.Name(number) == name  # type: ignore[attr-defined]
        assert weights_origin_from_pb(number, enum) == origin


@pytest.mark.parametrize("enum", ENUMS)
def test_unknown_values_are_unspecified(enum: type[int]) -> None:
    assert weights_origin_to_pb("borrowed", enum) == 0
    assert weights_origin_to_pb("unspecified", enum) == 0
    assert weights_origin_from_pb(0, enum) == "unspecified"
    assert weights_origin_from_pb(99, enum) == "unspecified"


def test_the_origin_reaches_a_message() -> None:
    message = emotion_pb2.GetModelInfoResponse(
        weights_origin=weights_origin_to_pb("synthetic-trained", emotion_pb2.WeightsOrigin)
    )
    assert message.weights_origin == emotion_pb2.WEIGHTS_ORIGIN_SYNTHETIC_TRAINED
