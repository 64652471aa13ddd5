"""Discovery: ask the emotion and image services what they serve and map it to catalog cards.

The upstream replies are read once, here, into :class:`ranker.probes.Target` values; nothing
deeper in the ranker reads upstream protobuf to find out what is served.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import grpc

from ranker.catalog import WEIGHTS_ORIGINS, Catalog, ModelCard
from ranker.clients import ServiceClients, ServiceUnavailable
from ranker.metrics import RankerMetrics
from ranker.probes import EMOTION, IMAGE, Target
from servicekit.pb.emoflux.emotion.v1 import emotion_pb2
from servicekit.pb.emoflux.image.v1 import image_pb2

_ORIGIN_PREFIX = "WEIGHTS_ORIGIN_"


def weights_origin_from_pb(name: str) -> str:
    """A ``WeightsOrigin`` enum value name (e.g. ``WEIGHTS_ORIGIN_SYNTHETIC_TRAINED``) as a catalog origin.

    Read by name, not number, so the emotion and image enums need not share their numbering; a name
    this code does not know (a newer server) reads as "unspecified".
    """
    origin = name.removeprefix(_ORIGIN_PREFIX).lower().replace("_", "-")
    return origin if origin in WEIGHTS_ORIGINS else "unspecified"


def emotion_origin(value: int) -> str:
    """An emotion ``WeightsOrigin`` number as a catalog origin."""
    names = emotion_pb2.WeightsOrigin.values()
    return weights_origin_from_pb(emotion_pb2.WeightsOrigin.Name(value)) if value in names else "unspecified"  # type: ignore[arg-type]


def image_origin(value: int) -> str:
    """An image ``WeightsOrigin`` number as a catalog origin."""
    names = image_pb2.WeightsOrigin.values()
    return weights_origin_from_pb(image_pb2.WeightsOrigin.Name(value)) if value in names else "unspecified"  # type: ignore[arg-type]


@dataclass
class Discovery:
    """What the services serve right now, and which services could not be reached."""

    targets: dict[str, Target] = field(default_factory=dict)
    down: dict[str, str] = field(default_factory=dict)
    unmatched: list[str] = field(default_factory=list)
    unreachable_replicas: dict[str, list[str]] = field(default_factory=dict)
    serving: dict[str, list[str]] = field(default_factory=dict)


def emotion_target(card: ModelCard, info: emotion_pb2.GetModelInfoResponse) -> Target:
    """The served emotion model as a probe target."""
    origin = emotion_origin(info.weights_origin)
    version = (
        f"emotion_service model={info.model} backend={info.backend} "
        f"precision={info.default_precision} sha256={info.provenance.sha256[:12]}"
    )
    return Target(
        card=card,
        service=EMOTION,
        name=info.model,
        weights_origin=origin,
        random_weights=info.random_weights or origin == "random",
        service_version=version,
        quality_domain=info.quality_domain,
        info=info,
    )


def image_target(card: ModelCard, variant: image_pb2.Variant) -> Target:
    """A loaded image variant as a probe target."""
    origin = image_origin(variant.weights_origin)
    version = f"image_service variant={variant.name} backend={variant.backend} pipeline={variant.pipeline_class}"
    return Target(
        card=card,
        service=IMAGE,
        name=variant.name,
        weights_origin=origin,
        random_weights=variant.random_weights or origin == "random",
        service_version=version,
        quality_domain=variant.quality_domain,
        info=variant,
    )


def describe_failure(exc: BaseException) -> str:
    """A short reason an upstream could not be asked."""
    if isinstance(exc, ServiceUnavailable):
        return f"{exc.address}: {exc.detail}"
    if isinstance(exc, grpc.aio.AioRpcError):
        return f"{exc.code().name}: {exc.details()}"
    return str(exc)


async def discover(
    catalog: Catalog, clients: ServiceClients, rpc_timeout: float, metrics: RankerMetrics | None = None
) -> Discovery:
    """Ask both services what they serve and map it to catalog cards."""
    found = Discovery()
    try:
        info = await clients.emotion.model_info(timeout=rpc_timeout)
        found.serving[EMOTION] = [info.model]
        card = catalog.match_served(EMOTION, info.model, emotion_origin(info.weights_origin))
        if card is None:
            found.unmatched.append(f"emotion model {info.model!r} has no catalog card")
        else:
            found.targets[card.id] = emotion_target(card, info)
    except (ServiceUnavailable, grpc.aio.AioRpcError) as exc:
        found.down[EMOTION] = describe_failure(exc)
    try:
        reply = await clients.image.list_variants(timeout=rpc_timeout)
        found.serving[IMAGE] = [v.name for v in reply.variants if v.loaded]
        for variant in reply.variants:
            if not variant.loaded:
                continue
            card = catalog.match_served(IMAGE, variant.name, image_origin(variant.weights_origin))
            if card is None or card.id in found.targets:
                found.unmatched.append(f"image variant {variant.name!r} has no catalog card of its own")
                continue
            found.targets[card.id] = image_target(card, variant)
    except (ServiceUnavailable, grpc.aio.AioRpcError) as exc:
        found.down[IMAGE] = describe_failure(exc)
    await _check_replicas(found, clients, min(2.0, rpc_timeout), metrics)
    return found


async def _check_replicas(
    found: Discovery, clients: ServiceClients, timeout: float, metrics: RankerMetrics | None
) -> None:
    """Health-check each replica of multi-address upstreams (not evidence: an outage says nothing of a model)."""
    for client in clients.all():
        if "," not in client.addresses:
            continue
        health = await client.replica_health(timeout=timeout)
        down = [address for address, up in health.items() if not up]
        if down:
            found.unreachable_replicas[client.service] = down
        if metrics is not None:
            for address, up in health.items():
                metrics.replica_up.labels(client.service, address).set(1 if up else 0)
