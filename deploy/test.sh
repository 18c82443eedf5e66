#!/usr/bin/env bash
# Installs everything the test suite needs (Python packages in the checkout's .venv, see
# deploy/lib/venv.sh), starts the services it uses, runs every test.
# Usage: deploy/test.sh [pytest args]   (CI runs it with no arguments via .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/lib/runtimes.sh
. deploy/lib/docker.sh
. deploy/lib/venv.sh

install_runtimes
ensure_docker

# docker-compose and nginx: the compose-file and nginx.conf checks; Prometheus (promtool and
# the server): the scrape configuration's checks and a real scrape of a cluster; PostgreSQL,
# PHP's PDO driver for it and Chromium: the rest-api example (its database and the page's
# browser), the dashboard
apt_missing=()
command -v docker-compose >/dev/null 2>&1 || apt_missing+=(docker-compose)
# npm: pouchdb-server below, and the npm clients the API gateway tests run (Debian's nodejs
# comes without it)
command -v npm >/dev/null 2>&1 || apt_missing+=(npm)
command -v nginx >/dev/null 2>&1 || apt_missing+=(nginx-light)
command -v promtool >/dev/null 2>&1 || apt_missing+=(prometheus)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || apt_missing+=(postgresql)
php -m 2>/dev/null | grep -qx pdo_pgsql || apt_missing+=(php-pgsql)
command -v chromium >/dev/null 2>&1 || apt_missing+=(chromium)
# autotools: npm's aws-lambda-ric (AWS's Node.js runtime interface client, run by the
# provided kind's tests) builds curl and aws-lambda-cpp from source.
command -v autoreconf >/dev/null 2>&1 || apt_missing+=(autoconf automake)
command -v libtoolize >/dev/null 2>&1 || apt_missing+=(libtool)
if [ ${#apt_missing[@]} -gt 0 ]; then
  echo "==> installing ${apt_missing[*]} (apt)"
  sudo_cmd=(); [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${apt_missing[@]}"
fi

if [ "$#" -eq 0 ]; then  # the whole run: the README's first command, as on a stock Debian,
  bash deploy/check-quickstart.sh
  # then in a stock Ubuntu 24.04 container (about 1.5 min; 2 the first time, building its image)
  bash deploy/check-quickstart-ubuntu.sh
fi

# The same virtual environment with every extra (tests/unit/test_test_layout.py checks the
# list): a suite whose dependency is missing fails rather than skips; its python runs
# everything below.
ensure_venv test,docker,couchdb,kafka,consul,metrics,bench

echo "==> building the runtime images (first time: debootstrap, about a minute; then cached)"
pywhisk images build

echo "==> installing pouchdb-server (the CouchDB API the store tests run against; cached)"
python -c 'from tests.support.couchdb import ensure_pouchdb_server as e; print(e())'

if [ "$#" -eq 0 ]; then  # the whole run; `deploy/test.sh tests/unit` skips it
  echo "==> type checking (mypy, the code and the tests)"
  bash deploy/typecheck.sh
fi

# Nothing above may be missing (a test fails, naming it); what only the machine gives (root,
# cgroup v1) skips its test here, and fails it under CI=true (tests/support/prerequisites.py).
echo "==> running the test suite"
python -m pytest "$@"
