#!/usr/bin/env bash
# Installs everything the test suite needs, starts the services it uses, runs every test.
# Usage: deploy/test.sh [pytest args]   (CI runs it with no arguments via .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/lib/runtimes.sh

install_runtimes

echo "==> installing pywhisk with its test dependencies (pip)"
python3 -m pip install -q --disable-pip-version-check -e '.[test]'

echo "==> running the test suite"
python3 -m pytest "$@"
