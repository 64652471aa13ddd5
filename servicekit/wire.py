"""Protobuf conversions every service shares.

Each service's proto package declares its own ``WeightsOrigin`` enum (``WEIGHTS_ORIGIN_RANDOM``, ...)
with the same names and numbers. The domain speaks the origin's name (``random``, ``synthetic-trained``,
``pretrained``); these functions convert through the enum's descriptor, so no service keeps a copy of
the table and a new origin needs no code here.
"""

from __future__ import annotations

from typing import Protocol, TypeVar, cast

WEIGHTS_ORIGINS: tuple[str, ...] = ("random", "synthetic-trained", "pretrained")
"""The origins a model's weights can have, as the domain names them."""

UNSPECIFIED = "unspecified"
_PREFIX = "WEIGHTS_ORIGIN_"

E = TypeVar("E", bound=int)


class _EnumWrapper(Protocol):
    """What the generated enum classes (``pb.WeightsOrigin``) offer through their metaclass."""

    def Value(self, name: str) -> int: ...
    def Name(self, number: int) -> str: ...


def weights_origin_to_pb(origin: str, enum: type[E]) -> E:
    """The ``enum`` value of a domain origin name; an unknown name is ``WEIGHTS_ORIGIN_UNSPECIFIED``."""
    wrapper = cast(_EnumWrapper, enum)
    try:
        number = wrapper.Value(_PREFIX + origin.upper().replace("-", "_"))
    except ValueError:
        number = wrapper.Value(_PREFIX + "UNSPECIFIED")
    return cast(E, number)


def weights_origin_from_pb(number: int, enum: type[E]) -> str:
    """The domain origin name of an ``enum`` number; an unknown number is ``unspecified``."""
    try:
        name = cast(_EnumWrapper, enum).Name(int(number))
    except ValueError:
        return UNSPECIFIED
    return name.removeprefix(_PREFIX).lower().replace("_", "-")
