#!/usr/bin/env bash
# Installs pywhisk and the language runtimes its actions need, then starts the standalone
# platform on http://127.0.0.1:3233 and points `wsk` at it (~/.wskprops).
# Usage: deploy/standalone.sh [pywhisk standalone options]
set -euo pipefail
cd "$(dirname "$0")/.."

apt_missing=()
command -v php >/dev/null 2>&1 || apt_missing+=(php-cli)
command -v node >/dev/null 2>&1 || apt_missing+=(nodejs)
[ -x /usr/bin/python3 ] || apt_missing+=(python3)
if [ ${#apt_missing[@]} -gt 0 ]; then
  echo "==> installing ${apt_missing[*]} (apt)"
  if [ "$(id -u)" -eq 0 ]; then sudo_cmd=(); else sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${apt_missing[@]}"
fi

echo "==> installing pywhisk (pip)"
python3 -m pip install -q --disable-pip-version-check -e .

echo "==> starting pywhisk standalone"
exec pywhisk standalone "$@"
