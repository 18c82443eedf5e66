#!/usr/bin/env bash
# Installs everything the test suite needs, starts the services it uses, runs every test.
# Usage: deploy/test.sh [pytest args]   (CI runs it with no arguments via .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/lib/runtimes.sh
. deploy/lib/docker.sh

install_runtimes
ensure_docker

echo "==> installing pywhisk with its test dependencies (pip)"
python3 -m pip install -q --disable-pip-version-check -e '.[test,docker]'

echo "==> building the runtime images (first time: debootstrap, about a minute; then cached)"
pywhisk images build

echo "==> running the test suite"
python3 -m pytest "$@"
