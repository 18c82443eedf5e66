#!/usr/bin/env bash
# Installs everything the test suite needs, starts the services it uses, runs every test.
# Usage: deploy/test.sh [pytest args]   (CI runs it with no arguments via .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

apt_missing=()
command -v php >/dev/null 2>&1 || apt_missing+=(php-cli)
command -v node >/dev/null 2>&1 || apt_missing+=(nodejs)
[ -x /usr/bin/python3 ] || apt_missing+=(python3)
if [ ${#apt_missing[@]} -gt 0 ]; then
  step "installing ${apt_missing[*]} (apt)"
  if [ "$(id -u)" -eq 0 ]; then sudo_cmd=(); else sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${apt_missing[@]}"
fi

step "installing pywhisk with its test dependencies (pip)"
python3 -m pip install -q --disable-pip-version-check -e '.[test]'

step "running the test suite"
python3 -m pytest "$@"
