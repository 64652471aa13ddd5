"""Hypothesis strategies for hostile input: native request messages and image bytes, valid and not.

Image bytes come from two sources: arbitrary bytes, and small valid PNG/JPEG/GIF/BMP/WebP/TIFF files
mutated by flips, truncation, insertion, duplication and PNG header rewrites (the last makes pixel bombs
whose header claims a huge size). Request strategies cover every field of ClassifyRequest and
GenerateRequest with in-range values, edge values and garbage; valid generation requests stay small
(at most 256x256, 4 steps, 2 images) so that a fixed example budget also bounds the time.
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

import numpy as np
from hypothesis import strategies as st
from PIL import Image

from servicekit.pb.emoflux.emotion.v1 import emotion_pb2
from servicekit.pb.emoflux.image.v1 import image_pb2

UINT32_EDGES = (0, 1, 2, 3, 64, 255, 256, 4096, 65535, 65536, 2**31 - 1, 2**32 - 1)
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF")


def uint32s() -> st.SearchStrategy[int]:
    """Small values, edge values and anything in uint32."""
    return st.one_of(st.integers(0, 300), st.sampled_from(UINT32_EDGES), st.integers(0, 2**32 - 1))


@lru_cache(maxsize=1)
def seed_images() -> tuple[bytes, ...]:
    """Small valid files in every format (one is not accepted by the service: TIFF)."""
    rng = np.random.default_rng(7)
    out = []
    for fmt in FORMATS:
        for size in ((32, 32), (80, 60)):
            pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
            buffer = io.BytesIO()
            Image.fromarray(pixels).save(buffer, format=fmt)
            out.append(buffer.getvalue())
    return tuple(out)


def one_of_files(files: tuple[bytes, ...] | list[bytes]) -> st.SearchStrategy[bytes]:
    """One of ``files``, drawn by index (a strategy over the bytes themselves has a huge repr)."""
    chosen = tuple(files)
    return st.integers(0, len(chosen) - 1).map(chosen.__getitem__)


def _png_with_size(data: bytes, width: int, height: int) -> bytes:
    """Rewrite the IHDR size of a PNG (and its CRC), keeping the payload."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n") or len(data) < 33:
        return data
    ihdr = bytearray(data[16:29])
    ihdr[0:8] = struct.pack(">II", width, height)
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + bytes(ihdr)))
    return data[:16] + bytes(ihdr) + crc + data[33:]


def _mutate(data: bytes, ops: list[tuple[str, int, int, bytes]]) -> bytes:
    buf = bytearray(data)
    for kind, position, size, payload in ops:
        if not buf:
            break
        at = position % len(buf)
        if kind == "flip":
            buf[at] ^= 1 << (size % 8)
        elif kind == "set":
            buf[at] = size % 256
        elif kind == "truncate":
            del buf[at:]
        elif kind == "insert":
            buf[at:at] = payload
        elif kind == "duplicate":
            buf[at:at] = buf[at : at + size]
        elif kind == "delete":
            del buf[at : at + size]
    return bytes(buf)


def mutated_images() -> st.SearchStrategy[bytes]:
    """A valid seed file with up to five mutations, or a PNG whose header lies about its size."""
    op = st.tuples(
        st.sampled_from(("flip", "set", "truncate", "insert", "duplicate", "delete")),
        st.integers(0, 2**16),
        st.integers(0, 512),
        st.binary(max_size=64),
    )
    mutated = st.builds(_mutate, one_of_files(seed_images()), st.lists(op, max_size=5))
    png_seeds = [s for s in seed_images() if s.startswith(b"\x89PNG")]
    bombs = st.builds(_png_with_size, one_of_files(png_seeds), uint32s(), uint32s())
    return st.one_of(mutated, bombs)


def image_bytes() -> st.SearchStrategy[bytes]:
    """Arbitrary bytes, mutated valid files, or valid files as they are."""
    return st.one_of(st.binary(max_size=2048), mutated_images(), one_of_files(seed_images()))


def raw_images() -> st.SearchStrategy[emotion_pb2.RawImage]:
    """RawImage with matching sizes (random pixels) or sizes that lie about the buffer."""

    def exact(width: int, height: int, seed: int) -> emotion_pb2.RawImage:
        pixels = np.random.default_rng(seed).integers(0, 256, width * height * 3, dtype=np.uint8)
        return emotion_pb2.RawImage(width=width, height=height, rgb=pixels.tobytes())

    matching = st.builds(exact, st.integers(1, 64), st.integers(1, 64), st.integers(0, 2**16))
    lying = st.builds(emotion_pb2.RawImage, width=uint32s(), height=uint32s(), rgb=st.binary(max_size=1024))
    return st.one_of(matching, lying)


def images() -> st.SearchStrategy[emotion_pb2.Image]:
    """An Image with encoded data, raw pixels, or no source at all."""
    return st.one_of(
        st.builds(lambda data: emotion_pb2.Image(data=data), image_bytes()),
        st.builds(lambda raw: emotion_pb2.Image(raw=raw), raw_images()),
        st.just(emotion_pb2.Image()),
    )


def precisions() -> st.SearchStrategy[str]:
    """Loaded, unloaded (fp16), unknown and arbitrary precision names."""
    loaded = st.sampled_from(("", "fp32", "int8"))
    return st.one_of(loaded, st.sampled_from(("fp16", "FP32", "bf16", " fp32", "fp32\x00")), st.text(max_size=12))


def decodable_images() -> st.SearchStrategy[emotion_pb2.Image]:
    """An Image the service can decode (a seed in a documented format), so that the options decide."""
    accepted = [s for s in seed_images() if not s.startswith((b"II*\x00", b"MM\x00*"))]
    return st.builds(lambda data: emotion_pb2.Image(data=data), one_of_files(accepted))


def classify_requests(max_images: int) -> st.SearchStrategy[emotion_pb2.ClassifyRequest]:
    """Every ClassifyRequest field: 0 to ``max_images`` + 2 images, any face mode, top_k, threshold, precision.

    Half the image lists hold only decodable images, so that the options, not the pixels, decide the outcome.
    """
    image_lists = st.one_of(
        st.lists(decodable_images(), min_size=1, max_size=max_images), st.lists(images(), max_size=max_images + 2)
    )
    return st.builds(
        emotion_pb2.ClassifyRequest,
        images=image_lists,
        face_mode=st.one_of(st.sampled_from((0, 1, 2)), st.integers(-(2**31), 2**31 - 1)),
        top_k=uint32s(),
        threshold=st.one_of(st.floats(0, 1, width=32), st.floats(width=32)),
        precision=precisions(),
    )


def image_classify_requests() -> st.SearchStrategy[emotion_pb2.ClassifyRequest]:
    """One hostile encoded image per request, whole-image or face detection."""
    return st.builds(
        lambda data, mode: emotion_pb2.ClassifyRequest(images=[emotion_pb2.Image(data=data)], face_mode=mode),
        image_bytes(),
        st.sampled_from((emotion_pb2.FACE_MODE_WHOLE, emotion_pb2.FACE_MODE_DETECT)),
    )


def _generate(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[image_pb2.GenerateRequest]:
    """GenerateRequest from one strategy per field; optional fields are left unset when drawn as None."""

    def build(**values: Any) -> image_pb2.GenerateRequest:
        optional = {k: values.pop(k) for k in ("guidance_scale", "seed", "strength")}
        request = image_pb2.GenerateRequest(**values)
        for name, value in optional.items():
            if value is not None:
                setattr(request, name, value)
        return request

    return st.builds(build, **fields)


def generate_requests() -> st.SearchStrategy[image_pb2.GenerateRequest]:
    """Every GenerateRequest field, half the time in range and half the time anything.

    In-range requests stay cheap: at most 128x128 (or the 256x256 default), 4 steps, 2 images. Hostile
    ones may name huge sizes or step counts; the service must refuse those before running anything.
    """
    valid = _generate(
        {
            "variant": st.sampled_from(("", "tiny-flux")),
            "prompt": st.one_of(
                st.sampled_from(("a happy face", "a surprised face")), st.text(min_size=1, max_size=200)
            ),
            "negative_prompt": st.just(""),
            "width": st.sampled_from((0, 64, 96, 128)),
            "height": st.sampled_from((0, 64, 96, 128)),
            "num_inference_steps": st.integers(0, 3),
            "guidance_scale": st.one_of(st.none(), st.floats(0, 20, width=32)),
            "seed": st.one_of(st.none(), st.integers(0, 2**64 - 1)),
            "num_images": st.integers(0, 2),
            "output_format": st.integers(0, 3),
            "quality": st.integers(0, 100),
            "reference_images": st.just([]),
            "strength": st.none(),
        }
    )
    sizes = st.one_of(st.sampled_from((0, 64, 96, 128)), st.integers(0, 63), st.integers(513, 2**32 - 1))
    hostile = _generate(
        {
            "variant": st.one_of(
                st.sampled_from(("", "tiny-flux", "flux-1-dev", "FLUX", "../etc")), st.text(max_size=10)
            ),
            "prompt": st.one_of(st.sampled_from(("", " ", "a happy face")), st.text(max_size=300)),
            "negative_prompt": st.one_of(st.just(""), st.text(max_size=20)),
            "width": sizes,
            "height": sizes,
            "num_inference_steps": st.one_of(st.integers(0, 3), st.integers(501, 2**32 - 1)),
            "guidance_scale": st.one_of(st.none(), st.floats(width=32)),
            "seed": st.one_of(st.none(), st.integers(0, 2**64 - 1)),
            "num_images": st.one_of(st.integers(0, 2), st.integers(9, 2**32 - 1)),
            "output_format": st.one_of(st.integers(0, 3), st.integers(4, 2**31 - 1)),
            "quality": st.one_of(st.integers(0, 101), st.integers(0, 2**32 - 1)),
            "reference_images": st.lists(image_bytes(), max_size=2),
            "strength": st.one_of(st.none(), st.floats(width=32)),
        }
    )
    return st.one_of(valid, hostile)


# ---------------------------------------------------------------------------------------------------------
# Every other public RPC: streams, KServe v2, the ranker, raw bytes, the HTTP gateway.

SHORT_TEXT = st.one_of(st.sampled_from(("", " ", "emotion", "1", "\x00", "../x", "é" * 3)), st.text(max_size=40))
INT64_EDGES = (-(2**63), -1, 0, 1, 2, 3, 64, 65, 2**31, 2**63 - 1)


def classify_stream_items(max_images: int) -> st.SearchStrategy[list[emotion_pb2.ClassifyStreamRequest]]:
    """1 to 4 stream items: request ids short, long (over the 128-byte limit) or repeated; any request."""
    ids = st.one_of(st.sampled_from(("", "a", "a")), st.text(max_size=8), st.text(min_size=129, max_size=140))
    item = st.builds(
        lambda request_id, request: emotion_pb2.ClassifyStreamRequest(request_id=request_id, request=request),
        ids,
        classify_requests(max_images),
    )
    return st.lists(item, min_size=1, max_size=4)


def _parameters(target: Any, drawn: list[tuple[str, str, Any]]) -> None:
    for key, kind, value in drawn:
        param = target[key]
        setattr(param, kind, value)


def infer_parameters() -> st.SearchStrategy[list[tuple[str, str, Any]]]:
    """KServe request parameters: ``precision`` of every type and value, and unknown keys."""
    value = st.one_of(
        st.tuples(st.just("string_param"), precisions()),
        st.tuples(st.just("bool_param"), st.booleans()),
        st.tuples(st.just("int64_param"), st.sampled_from(INT64_EDGES)),
        st.tuples(st.just("double_param"), st.floats(allow_nan=True)),
    )
    key = st.sampled_from(("precision", "precision", "sequence_id", "priority", "timeout", "binary_data_size"))
    return st.lists(st.builds(lambda k, kv: (k, kv[0], kv[1]), key, value), max_size=2)


def model_infer_requests(input_shape: tuple[int, ...]) -> st.SearchStrategy[Any]:
    """ModelInferRequest: half valid (FP32 raw or typed contents, batch 1-3, the right shape), half anything.

    Hostile ones: wrong model names and versions, datatypes, shapes (negative, zero, huge, wrong rank), raw
    bytes that disagree with the shape, both raw and typed contents, several inputs, unknown outputs.
    """
    from servicekit.pb.inference import grpc_service_pb2 as kpb

    elements = 1
    for dim in input_shape:
        elements *= dim

    def valid(batch: int, raw: bool, seed: int, params: list[tuple[str, str, Any]], output: bool) -> Any:
        request = kpb.ModelInferRequest(model_name="emotion", id=str(seed))
        pixels = np.random.default_rng(seed).standard_normal(batch * elements).astype("<f4")
        tensor = request.inputs.add(name="pixel_values", datatype="FP32", shape=[batch, *input_shape])
        if raw:
            request.raw_input_contents.append(pixels.tobytes())
        else:
            tensor.contents.fp32_contents.extend(pixels.tolist())
        if output:
            request.outputs.add(name="probabilities")
        _parameters(request.parameters, params)
        return request

    def tensor(name: str, datatype: str, shape: list[int], fp32: list[float], typed: bool) -> Any:
        t = kpb.ModelInferRequest.InferInputTensor(name=name, datatype=datatype, shape=shape)
        if typed:
            t.contents.fp32_contents.extend(fp32)
        return t

    tensors = st.builds(
        tensor,
        st.sampled_from(("pixel_values", "pixel_values", "input", "")),
        st.sampled_from(("FP32", "FP32", "FP16", "INT8", "BYTES", "UINT8", "fp32", "")),
        st.one_of(
            st.just([1, *input_shape]),
            st.lists(st.sampled_from(INT64_EDGES), max_size=5),
            st.lists(st.integers(-2, 70), max_size=5),
        ),
        st.lists(st.floats(width=32), max_size=8),
        st.booleans(),
    )

    def hostile_request(
        name: str, version: str, inputs: list[Any], raws: list[bytes], outputs: list[str], params: list[Any]
    ) -> Any:
        request = kpb.ModelInferRequest(model_name=name, model_version=version, inputs=inputs)
        request.raw_input_contents.extend(raws)
        for output in outputs:
            request.outputs.add(name=output)
        _parameters(request.parameters, params)
        return request

    raw_sizes = st.one_of(st.sampled_from((0, 3, 4 * elements, 4 * elements - 1, 8 * elements)), st.integers(0, 300))
    hostile = st.builds(
        hostile_request,
        st.sampled_from(("emotion", "emotion", "", "other", "emotion\x00")),
        st.sampled_from(("", "1", "2", "-1", "latest")),
        st.lists(tensors, max_size=3),
        st.lists(raw_sizes.map(lambda n: b"\x00\x00\x80\x3f" * (n // 4) + b"\x01" * (n % 4)), max_size=3),
        st.lists(st.sampled_from(("probabilities", "logits", "")), max_size=2),
        infer_parameters(),
    )
    valids = st.builds(
        valid, st.integers(1, 3), st.booleans(), st.integers(0, 2**16), infer_parameters(), st.booleans()
    )
    return st.one_of(valids, hostile)


def model_name_requests(message: Any) -> st.SearchStrategy[Any]:
    """A KServe metadata-style request (``name``, ``version``) with the served name or anything."""
    return st.builds(
        message, name=st.one_of(st.just("emotion"), SHORT_TEXT), version=st.sampled_from(("", "1", "2", "x"))
    )


def generate_stream_requests() -> st.SearchStrategy[image_pb2.GenerateStreamRequest]:
    """GenerateStreamRequest: any GenerateRequest, previews on or off, any preview size."""
    return st.builds(
        image_pb2.GenerateStreamRequest,
        request=generate_requests(),
        previews=st.booleans(),
        preview_size=st.one_of(st.sampled_from((0, 16, 128, 512, 513)), uint32s()),
    )


CATALOG_IDS = ("emotion-tiny", "tiny-flux", "flux-1-dev", "facial-emotions-image-detection")


def model_ids() -> st.SearchStrategy[str]:
    """Catalog ids, near misses and anything."""
    return st.one_of(st.sampled_from(CATALOG_IDS), st.sampled_from(("", "EMOTION-TINY", "emotion-tiny ")), SHORT_TEXT)


def evidence_records() -> st.SearchStrategy[Any]:
    """Evidence with every field in range or not: non-finite values, huge details, odd timestamps and sources."""
    from servicekit.pb.emoflux.ranker.v1 import ranker_pb2

    def build(
        model_id: str, capability: str, probe: str, value: float, unit: str, passed: bool,
        seconds: int | None, nanos: int, source: int, detail: str, random_weights: bool,
    ) -> Any:  # fmt: skip
        record = ranker_pb2.Evidence(
            model_id=model_id, capability=capability, probe=probe, value=value, unit=unit, passed=passed,
            source=cast(Any, source), detail=detail, random_weights=random_weights,
        )  # fmt: skip
        if seconds is not None:
            record.observed_at.seconds = seconds
            record.observed_at.nanos = nanos
        return record

    return st.builds(
        build,
        model_ids(),
        st.one_of(st.sampled_from(("emotion-classification", "text-to-image", "")), SHORT_TEXT),
        st.one_of(st.sampled_from(("fuzz.probe", "")), st.text(max_size=300)),
        st.one_of(st.floats(-1e3, 1e3), st.floats()),
        st.sampled_from(("fraction", "seconds", "", "x" * 200)),
        st.booleans(),
        st.one_of(st.none(), st.sampled_from((0, -1, 1_700_000_000, 253402300799, 253402300800, -62135596801))),
        st.sampled_from((0, 999_999_999, 1_000_000_000, -1)),
        st.one_of(st.integers(0, 5), st.integers(-(2**31), 2**31 - 1)),
        st.one_of(st.just(""), st.text(max_size=64), st.just("d" * 4097)),
        st.booleans(),
    )


def submit_requests() -> st.SearchStrategy[Any]:
    """SubmitEvidenceRequest: 1 to 4 valid records, 0 to 4 drawn records, or 1001 copies of one (over 1000)."""
    from servicekit.pb.emoflux.ranker.v1 import ranker_pb2

    valid = st.builds(
        ranker_pb2.Evidence,
        model_id=st.sampled_from(CATALOG_IDS[:2]),
        capability=st.just("emotion-classification"),
        probe=st.sampled_from(("fuzz.review", "quality.review")),
        value=st.floats(0, 1),
        unit=st.just("fraction"),
        passed=st.booleans(),
        detail=st.text(max_size=64),
    )
    accepted = st.lists(valid, min_size=1, max_size=4)
    few = st.lists(st.one_of(valid, evidence_records()), max_size=4)
    many = evidence_records().map(lambda r: [r] * 1001)
    return st.builds(ranker_pb2.SubmitEvidenceRequest, evidence=st.one_of(accepted, few, few, many))


def evaluate_requests() -> st.SearchStrategy[Any]:
    """EvaluateRequest naming models and probes or not, with deadlines in and out of range (no matches)."""
    from google.protobuf.duration_pb2 import Duration

    from servicekit.pb.emoflux.ranker.v1 import ranker_pb2

    deadlines = st.one_of(
        st.none(),
        st.builds(Duration, seconds=st.sampled_from((-5, 0, 1, 2)), nanos=st.sampled_from((0, 1, 500_000_000, -1))),
        st.builds(Duration, seconds=st.sampled_from((10**9, 315_576_000_001)), nanos=st.just(0)),
    )

    def build(ids: list[str], probes: list[str], deadline: Any) -> Any:
        request = ranker_pb2.EvaluateRequest(model_ids=ids, probes=probes)
        if deadline is not None:
            request.deadline.CopyFrom(deadline)
        return request

    probes = st.lists(st.one_of(st.sampled_from(("latency", "health", "")), SHORT_TEXT), max_size=2)
    return st.builds(build, st.lists(model_ids(), min_size=1, max_size=2), probes, deadlines)


def raw_messages() -> st.SearchStrategy[bytes]:
    """Bytes sent as a serialized request: garbage, truncated varints, wrong wire types, valid empty."""
    tricky = st.sampled_from(
        (b"", b"\x0a", b"\x0a\xff\xff\xff\xff\x0f", b"\x08\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", b"\x0b", b"\xff")
    )
    return st.one_of(tricky, st.binary(max_size=256))


@dataclass(frozen=True)
class HttpCase:
    """One HTTP request to the gateway."""

    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def __repr__(self) -> str:
        return f"HttpCase({self.method} {self.path!r} headers={self.headers} body[{len(self.body)}]={self.body[:60]!r})"


OIP_DATATYPES = st.sampled_from(("FP32", "FP16", "INT64", "BOOL", "BYTES", "fp32", ""))


def oip_infer_json(shape: list[int], datatype: str, values: int) -> bytes:
    """An Open Inference Protocol JSON infer body with a drawn shape, datatype and number of values."""
    import json

    tensor = {"name": "pixel_values", "shape": shape, "datatype": datatype, "data": [0.5] * values}
    return json.dumps({"inputs": [tensor]}).encode()


def http_cases(read_token: str, write_token: str) -> st.SearchStrategy[HttpCase]:
    """Gateway requests: every route and method, tokens present, wrong, missing, any body and content type."""
    import base64
    import json

    auth = st.sampled_from(
        (f"Bearer {write_token}", f"Bearer {read_token}", None, f"Bearer {write_token}", "Bearer nope", "Basic x", "")
    )
    content_type = st.sampled_from((None, "application/json", "image/png", "text/plain", "application/json; x=1"))
    accept = st.sampled_from((None, "image/png", "image/jpeg", "application/json", "*/*", "text/html"))
    numbers = st.one_of(
        st.integers(-2, 600), st.sampled_from((2**32, -(2**63), 1e308)), st.floats(), st.text(max_size=4)
    )
    t2i_params = st.dictionaries(
        st.sampled_from(
            ("height", "width", "num_inference_steps", "guidance_scale", "seed", "negative_prompt", "bogus")
        ),
        st.one_of(numbers, st.sampled_from((64, 128)), st.none()),
        max_size=4,
    )
    cls_params = st.dictionaries(
        st.sampled_from(("top_k", "function_to_apply", "threshold")), st.one_of(numbers, SHORT_TEXT), max_size=2
    )

    def t2i(prompt: Any, params: dict[str, Any], keep_small: bool) -> bytes:
        if keep_small:
            params = {**params, "height": 64, "width": 64, "num_inference_steps": 2}
        return json.dumps({"inputs": prompt, "parameters": params}).encode()

    def cls_json(data: bytes, params: dict[str, Any], encode: bool) -> bytes:
        inputs = base64.b64encode(data).decode() if encode else data.decode("latin-1")
        return json.dumps({"inputs": inputs, "parameters": params}).encode()

    bodies = st.one_of(
        image_bytes(),
        st.builds(t2i, st.one_of(st.just("a happy face"), SHORT_TEXT, st.integers()), t2i_params, st.booleans()),
        st.builds(cls_json, image_bytes(), cls_params, st.booleans()),
        st.sampled_from((b"", b"{", b"null", b"[]", b'{"inputs": null}', b'{"inputs": NaN}')),
        st.builds(oip_infer_json, st.lists(st.integers(-2, 70), max_size=4), OIP_DATATYPES, st.integers(0, 5)),
        st.binary(max_size=300),
    )
    paths = st.one_of(
        st.sampled_from(
            ("/models/emotion", "/models/flux", "/models/flux/tiny-flux", "/models/flux/none", "/models/nope",
             "/models/", "/health", "/metrics", "/", "/models/emotion/../flux", "/models/%00",
             # The Open Inference Protocol (KServe v2 REST) routes.
             "/v2", "/v2/health/live", "/v2/health/ready", "/v2/models/emotion", "/v2/models/emotion/ready",
             "/v2/models/emotion/config", "/v2/models/emotion/stats", "/v2/models/stats", "/v2/models/emotion/infer",
             "/v2/models/emotion/versions/1/infer", "/v2/models/nope/infer", "/v2/models/emotion/versions/x")
        ),
        st.text(alphabet="abcdefghijklmnopqrstuvwxyz/._-%0123456789", max_size=30).map(lambda p: "/models/" + p),
        st.text(alphabet="abcdefghijklmnopqrstuvwxyz/._-%0123456789", max_size=30).map(lambda p: "/v2/" + p),
    )  # fmt: skip

    def build(method: str, path: str, a: str | None, c: str | None, acc: str | None, body: bytes) -> HttpCase:
        headers = tuple(
            (k, v) for k, v in (("Authorization", a), ("Content-Type", c), ("Accept", acc)) if v is not None
        )
        return HttpCase(method, path, headers, body if method in ("POST", "PUT") else b"")

    methods = st.sampled_from(("POST", "POST", "POST", "GET", "PUT", "DELETE"))
    anything = st.builds(build, methods, paths, auth, content_type, accept, bodies)
    # Well-formed calls with a token that may carry the role, so that the routes' own parsing is reached.
    tokens = st.sampled_from((f"Bearer {write_token}", f"Bearer {read_token}"))
    classify = st.builds(
        build,
        st.just("POST"),
        st.just("/models/emotion"),
        tokens,
        st.sampled_from((None, "image/png", "application/octet-stream")),
        accept,
        image_bytes(),
    )
    classify_with_params = st.builds(
        build,
        st.just("POST"),
        st.just("/models/emotion"),
        tokens,
        st.just("application/json"),
        accept,
        st.builds(cls_json, image_bytes(), cls_params, st.booleans()),
    )
    generate = st.builds(
        build,
        st.just("POST"),
        st.sampled_from(("/models/flux", "/models/flux/tiny-flux", "/models/flux/nope")),
        tokens,
        st.just("application/json"),
        accept,
        st.builds(t2i, st.one_of(st.just("a happy face"), SHORT_TEXT), t2i_params, st.just(True)),
    )
    info_paths = st.sampled_from(("/models/emotion", "/models/flux", "/health"))
    info = st.builds(build, st.just("GET"), info_paths, tokens, st.none(), st.none(), st.just(b""))
    return st.one_of(classify, classify_with_params, generate, info, anything, anything)
