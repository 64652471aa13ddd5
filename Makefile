# emoflux — one Makefile for set-up, the contract, checks, tests, the demo and benchmarks.
# Every target that needs the environment depends on `setup`, which is idempotent and quick when done.

SHELL := /bin/bash
.DEFAULT_GOAL := help
PY := .venv/bin/python
PIP := .venv/bin/pip -q --disable-pip-version-check
STAMP := .venv/.installed
MODELS := build/models
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

GPU_PY ?= $(shell test -x .venv/bin/python && echo .venv/bin/python || echo python3)

.PHONY: gpu-check gpu-wheels help setup models protos check-protos lint test test-slow test-all demo bench bench-emotion bench-emotion-graph bench-image up down buf-breaking validate-deploy docs test-e2e finetune-image-demo finetune-emotion-demo clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv .venv
	$(PIP) install --upgrade pip
	# torch first, from the pinned CPU wheel: any other spec pulls a multi-GB CUDA build.
	$(PIP) install -c constraints.txt torch==2.13.0
	$(PIP) install -c constraints.txt -e '.[cpu,dev]'
	touch $(STAMP)

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

setup: $(STAMP) node_modules/.package-lock.json protos models ## Create .venv, install everything, generate stubs, build embedded models

protos: $(STAMP) ## Regenerate Python stubs (with .pyi) from protos/
	$(PY) tools/gen_protos.py

check-protos: protos ## Fail when the committed generated stubs are stale
	git diff --exit-code --stat -- servicekit/pb || (echo "generated stubs are stale: run make protos and commit" >&2; exit 1)
	test -z "$$(git status --porcelain -- servicekit/pb)" || (git status --porcelain -- servicekit/pb; echo "untracked generated files: run make protos and commit" >&2; exit 1)

models: $(STAMP) ## Build the embedded default models (idempotent)
	@if [ -f tools/build_models.py ]; then $(PY) tools/build_models.py --out $(MODELS); else echo "no embedded models to build yet"; fi

lint: setup ## ruff (lint + format), mypy, buf lint
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
	npx --no-install buf lint
	$(PY) tools/gen_config_docs.py --check
	$(PY) tools/gen_bench_docs.py --check

docs: $(STAMP) ## Regenerate docs/configuration.md (settings) and the benchmark figures in docs (bench/results)
	$(PY) tools/gen_config_docs.py
	$(PY) tools/gen_bench_docs.py

buf-breaking: setup ## Check the protos for breaking changes against main
	npx --no-install buf breaking --against '.git#branch=main'

validate-deploy: setup ## Validate compose, Prometheus and Kubernetes manifests offline
	bash tools/validate_deploy.sh

test: setup ## Run the test suite (slow tests excluded)
	.venv/bin/pytest

test-slow: setup ## Run every slow test: end-to-end, exports with parity, training runs, bench smoke tests, long fuzz, perf_analyzer
	.venv/bin/pytest -m slow

test-e2e: setup ## Run the slow end-to-end tests only (services as processes, Prometheus, Node client)
	.venv/bin/pytest -m "e2e and slow"

test-all: setup ## Run every test, slow ones included
	.venv/bin/pytest -m ''

demo: setup ## Start the three services, run a ranking round, print the comparison, write the report
	@if [ -f ranker/demo.py ]; then $(PY) -m ranker.demo; else echo "demo: the services are not built yet (see the issues); only servicekit and the contract exist"; fi

bench: bench-emotion bench-emotion-graph bench-image ## Run all benchmarks

bench-emotion: setup ## Emotion serving benchmark -> bench/results/emotion.json
	$(PY) bench/emotion.py

bench-emotion-graph: setup ## What each export choice is worth -> bench/results/emotion_graph.json
	$(PY) bench/emotion_graph.py

bench-image: setup ## Image serving benchmark -> bench/results/image.json
	$(PY) bench/image.py

finetune-image-demo: setup ## LoRA on tiny-flux (darkest skin tone) -> bench/results/finetune_image.json, docs/training.md
	$(PY) -m image_service.build.finetune_demo

finetune-emotion-demo: setup ## Tiny classifier adapted to 4 labels in a new style -> bench/results/finetune_emotion.json
	$(PY) -m emotion_service.build.finetune_demo

up: ## docker compose up (needs a Docker engine)
	docker compose up -d --build

down: ## docker compose down
	docker compose down

clean: ## Remove the environment and built artefacts
	rm -rf .venv node_modules build

gpu-wheels: ## Download the small wheels the GPU check needs on a bare GPU machine -> build/gpu-wheels
	bash tools/gpu_wheels.sh

gpu-check: ## Everything a GPU can tell (no setup needed: the machine's python3 + build/gpu-wheels); CPU: smoke mode
	@if $(GPU_PY) -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then \
	  $(GPU_PY) tools/gpu_check.py --out build/gpu-check $$(test -d build/gpu-wheels && echo --wheels build/gpu-wheels); \
	else \
	  $(GPU_PY) tools/gpu_check.py --smoke --out build/gpu-check \
	    $$(test -f build/models/emotion/tiny/manifest.json && echo --emotion-bundle build/models/emotion/tiny); \
	fi
