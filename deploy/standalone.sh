#!/usr/bin/env bash
# Installs pywhisk (in a virtual environment, .venv in the checkout) and the language runtimes
# its actions need, puts `wsk` and `pywhisk` in ~/.local/bin, then starts the standalone
# platform on http://127.0.0.1:3233 and points `wsk` at it (~/.wskprops).
# Works with the distribution's python3 (Debian 12, Ubuntu 24.04: PEP 668, no system pip).
# Usage: deploy/standalone.sh [pywhisk standalone options]
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/lib/runtimes.sh
. deploy/lib/venv.sh

install_runtimes
ensure_venv metrics
link_commands

echo "==> starting pywhisk standalone"
exec pywhisk standalone "$@"
