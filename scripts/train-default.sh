#!/usr/bin/env bash
# Train the default model: make sure OpenBLAS is there (when apt-get can install it), then run
# `swiftctr train` with any arguments passed through.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! ldconfig -p 2>/dev/null | grep -q libopenblas.so.0 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libopenblas0-pthread \
    || echo "OpenBLAS could not be installed; the built-in GEMM will be used (slower)." >&2
fi
swift run -c release swiftctr train "$@"
