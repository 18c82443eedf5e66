#!/usr/bin/env bash
# Installs pywhisk and the language runtimes its actions need, then starts the standalone
# platform on http://127.0.0.1:3233 and points `wsk` at it (~/.wskprops).
# Usage: deploy/standalone.sh [pywhisk standalone options]
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/lib/runtimes.sh

install_runtimes

echo "==> installing pywhisk (pip)"
python3 -m pip install -q --disable-pip-version-check -e .

echo "==> starting pywhisk standalone"
exec pywhisk standalone "$@"
