"""Building emotion models: export to ONNX bundles, conversion and parity, the inference graph, training.

Nothing in the serving path imports this package; a serving image may leave it out.
"""
