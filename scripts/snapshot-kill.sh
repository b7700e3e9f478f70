#!/usr/bin/env bash
# The long variant of the SIGKILL snapshot test: KILLS kills (default 200) of `swiftctr train`
# while it writes a snapshot every iteration; each time the newest complete snapshot must load
# and resume, and every logged loss must equal the uninterrupted run's.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build
SWIFTCTR_SNAPSHOT_KILLS="${1:-200}" swift test --filter SnapshotKillTests
