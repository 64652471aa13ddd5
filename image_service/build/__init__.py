"""Building FLUX artefacts: the ONNX export of a transformer, the tiny pipeline, its training.

The serving path imports this package only on demand: to export the embedded variant for the onnx or
tensorrt backend on first use, or to build the random tiny pipeline when it is missing.
"""
