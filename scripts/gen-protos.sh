#!/usr/bin/env bash
# Generate Python code for every contract in protos/ next to its .proto file, so that the
# generated modules import as polis.<area>.v1 with no rewriting. The output is committed;
# tests/test_contracts.py fails when it is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-protos}"
mapfile -t files < <(cd protos && find polis -name '*.proto' | sort)
python -m grpc_tools.protoc -I protos \
  --python_out="$OUT" --grpc_python_out="$OUT" --pyi_out="$OUT" "${files[@]}"
echo "generated ${#files[@]} contracts into $OUT" >&2
