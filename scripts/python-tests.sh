#!/usr/bin/env bash
# Builds SwiftCTR's Python library and CLI (release), installs `hugectr` (python/) into a venv
# under .build/python-venv and runs its unittest suite (python/tests) on the CPU.
#
#     scripts/python-tests.sh            # all tests
#     scripts/python-tests.sh -k book    # unittest's -k filter, and other unittest options
set -euo pipefail
cd "$(dirname "$0")/.."

swift build -c release --product SwiftCTRPy
swift build -c release --product swiftctr

python=${PYTHON:-python3}
venv=.build/python-venv
if [ ! -x "$venv/bin/python" ]; then
    if ! "$python" -m venv "$venv"; then
        echo "error: '$python -m venv' failed; on Debian/Ubuntu install it with: apt-get install python3-venv" >&2
        rm -rf "$venv"
        exit 1
    fi
fi
"$venv/bin/python" -m pip install --quiet numpy
"$venv/bin/python" -m pip install --quiet --force-reinstall --no-deps ./python

export SWIFTCTR_DEVICE=${SWIFTCTR_DEVICE:-cpu}
exec "$venv/bin/python" -m unittest discover -s python/tests -v "$@"
