# Thin wrappers around commands a newcomer can also type by hand (see README.md).
SHELL := /bin/bash
UV ?= uv
PY := $(UV) run --frozen
APT_PACKAGES := libclang-dev pkg-config mbpoll postgresql chromium
GO_TOOLS := $(HOME)/.cache/polis/go-tools
KUSTOMIZE_VERSION := v5.7.1
KUBECONFORM_VERSION := v0.7.0

.PHONY: help setup apt python influxd tools bench-tools protos check-protos lint typecheck deploy-check test unit demo demo-stop clean

help:
	@echo "make demo   - start InfluxDB, the simulator and every service locally"
	@echo "make test   - install what is missing, then lint, type-check, validate deployment files and run all tests"

setup: apt python

apt:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

python:
	@command -v $(UV) >/dev/null || python3 -m pip install --quiet "uv>=0.5"
	$(UV) sync --all-packages --frozen

influxd:
	bash scripts/build-influxd.sh >/dev/null

tools:
	@mkdir -p $(GO_TOOLS)
	@[ -x $(GO_TOOLS)/kustomize ] || GOBIN=$(GO_TOOLS) go install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)
	@[ -x $(GO_TOOLS)/kubeconform ] || GOBIN=$(GO_TOOLS) go install github.com/yannh/kubeconform/cmd/kubeconform@$(KUBECONFORM_VERSION)

# hey: a compiled HTTP load generator for bench/gateway_load.py (not needed by the tests)
HEY_VERSION := v0.1.5
bench-tools:
	@mkdir -p $(GO_TOOLS)
	@[ -x $(GO_TOOLS)/hey ] || GOBIN=$(GO_TOOLS) go install github.com/rakyll/hey@$(HEY_VERSION)

protos:
	$(PY) bash scripts/gen-protos.sh

lint:
	$(PY) ruff check .
	$(PY) ruff format --check .

typecheck:
	$(PY) mypy

deploy-check: tools
	$(PY) python scripts/validate-deploy.py --kustomize $(GO_TOOLS)/kustomize --kubeconform $(GO_TOOLS)/kubeconform

# The pure tier while editing (README.md, Tests); `make test` runs every tier.
unit:
	$(PY) pytest -q -p no:cacheprovider -m "unit and not slow"

test: setup influxd lint typecheck deploy-check
	$(PY) pytest -q -p no:cacheprovider

demo: setup influxd
	$(PY) python scripts/demo.py $(DEMO_ARGS)

demo-stop:
	$(PY) python -m polis.common.influxd stop --data-dir .run/influxdb

clean:
	rm -rf .run .pytest_cache .mypy_cache .ruff_cache
