#!/usr/bin/env bash
# Download the small wheels tools/gpu_check.py needs on a GPU machine that has only Python 3.12, torch
# (CUDA), transformers, onnx, onnxruntime (CPU), grpcio, protobuf, numpy, pillow and opencv. They go into
# build/gpu-wheels (ignored by git) so they can travel with the tree (<= 64 MiB); the check unpacks them:
#   bash tools/gpu_wheels.sh && python3 tools/gpu_check.py --wheels build/gpu-wheels
# Versions are those of the CPU environment, so the GPU run uses the same code paths.
set -euo pipefail
cd "$(dirname "$0")/.."
DEST="${1:-build/gpu-wheels}"
PIP="${PIP:-.venv/bin/pip}"
mkdir -p "$DEST"
# Only the wheels travel; gpu_check.py unpacks them into $DEST/site on the GPU machine.
rm -rf "$DEST/site"
# diffusers (FLUX), grpcio-health-checking/-reflection (servicekit), protobuf 6.33 (the generated stubs'
# runtime), onnxscript + onnx-ir (torch.onnx export of the emotion bundle), importlib-metadata + zipp
# (diffusers' imports).
"$PIP" download --disable-pip-version-check --no-deps --only-binary=:all: \
  --python-version 3.12 --implementation cp --abi cp312 --abi abi3 --abi none \
  --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform any \
  -d "$DEST" \
  diffusers==0.42.1 \
  grpcio-health-checking==1.81.0 grpcio-reflection==1.81.0 \
  protobuf==6.33.6 \
  onnxscript==0.7.2 onnx-ir==1.1.0 \
  importlib-metadata==10.2.0 zipp==4.1.2
size=$(du -sm "$DEST" | cut -f1)
echo "$DEST: $(ls "$DEST"/*.whl | wc -l) wheels, ${size} MiB"
if [ "$size" -gt 64 ]; then
  echo "more than the 64 MiB that can travel with the tree" >&2
  exit 1
fi
