"""Generated protobuf and gRPC stubs for the protos in ``protos/``.

Regenerate with ``python tools/gen_protos.py``; do not edit files below this package.
Modules mirror the proto paths, e.g. ``servicekit.pb.emoflux.emotion.v1.emotion_pb2`` and
``servicekit.pb.inference.grpc_service_pb2``.
"""
