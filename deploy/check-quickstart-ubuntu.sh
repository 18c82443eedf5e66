#!/usr/bin/env bash
# The README's first command on a stock Ubuntu 24.04 (noble): deploy/check-quickstart.sh, run
# in a container of a freshly bootstrapped Ubuntu with a copy of this checkout. The image is
# what a fresh Ubuntu server has and no more: the minimal base, the distribution's python3
# (3.12, without its venv module) and ca-certificates, apt pointed at the archive's usual
# components and pockets; php, node, bubblewrap and python3-venv come only if the scripts
# install them. It is built once (debootstrap from archive.ubuntu.com, verified with the
# archive's signing key kept in deploy/keys) and kept as the image $image; later runs reuse it.
# deploy/test.sh runs it after the same check on the host (Debian).
# Usage: deploy/check-quickstart-ubuntu.sh   (PYWHISK_UBUNTU_MIRROR: another Ubuntu mirror)
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/lib/docker.sh

image=pywhisk/quickstart-ubuntu:noble
mirror="${PYWHISK_UBUNTU_MIRROR:-http://archive.ubuntu.com/ubuntu}"
# Ubuntu Archive Automatic Signing Key (2018), F6EC B376 2474 EDA9 D21B  7022 8719 20D1 991B C93C
keyring="$PWD/deploy/keys/ubuntu-archive-2018.gpg"
started=$SECONDS
container=""
build=""
cleanup() {
  [ -z "$container" ] || docker rm -f "$container" >/dev/null 2>&1 || true
  [ -z "$build" ] || rm -rf "$build"
}
trap cleanup EXIT
trap 'exit 130' INT TERM  # through cleanup: no container left running
step() { echo "==> [$((SECONDS - started))s] $*"; }

ensure_docker

build_image() {
  local sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  # Debian's debootstrap knows Ubuntu's suites by the script all of them share.
  local script=/usr/share/debootstrap/scripts/gutsy
  [ -e "$script" ] || { echo "debootstrap lacks $script (apt-get install debootstrap)" >&2; return 1; }
  build="$(mktemp -d)"
  step "debootstrap noble (python3, ca-certificates) from $mirror into $build (~1 min)"
  if ! "${sudo_cmd[@]}" debootstrap --variant=minbase --keyring="$keyring" \
    --include=python3,ca-certificates noble "$build/rootfs" "$mirror" "$script" \
    >"$build/debootstrap.log" 2>&1; then
    echo "debootstrap failed; the end of its log:" >&2
    tail -n 20 "$build/debootstrap.log" >&2
    return 1
  fi
  # debootstrap writes one line for main; a stock install has every component and pocket
  # (nodejs is in universe) in the deb822 file Ubuntu 24.04 ships.
  "${sudo_cmd[@]}" rm -f "$build/rootfs/etc/apt/sources.list"
  "${sudo_cmd[@]}" tee "$build/rootfs/etc/apt/sources.list.d/ubuntu.sources" >/dev/null <<EOF
Types: deb
URIs: $mirror
Suites: noble noble-updates noble-backports
Components: main restricted universe multiverse
Signed-By: /usr/share/keyrings/ubuntu-archive-keyring.gpg

Types: deb
URIs: $mirror
Suites: noble-security
Components: main restricted universe multiverse
Signed-By: /usr/share/keyrings/ubuntu-archive-keyring.gpg
EOF
  "${sudo_cmd[@]}" rm -rf "$build/rootfs/var/cache/apt/archives/"*.deb
  step "importing it as $image"
  "${sudo_cmd[@]}" tar --numeric-owner -C "$build/rootfs" -c \
    --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' --exclude='./run/*' \
    --exclude='./tmp/*' . \
    | docker import \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'CMD ["/bin/bash"]' - "$image" >/dev/null
  "${sudo_cmd[@]}" rm -rf "$build"
  build=""
}

if docker image inspect "$image" >/dev/null 2>&1; then
  step "$image: present (built $(docker image inspect -f '{{.Created}}' "$image" | cut -c1-16))"
else
  step "$image: missing; building it"
  build_image
fi

# What the process containers' sandbox needs, as on a host: bubblewrap makes user, PID and
# mount namespaces and mounts a fresh /proc (refused by Docker's seccomp and AppArmor
# profiles and its masked /proc paths), and the invoker writes cgroups (which Docker mounts
# read-only: remounted writable below, in a cgroup namespace of the container's own, so the
# invoker's cgroup paths are the container's). Not --privileged: it asks for every capability,
# which a Docker engine in a container without them cannot give. The bridge network lets apt
# and pip reach their mirrors.
container="pywhisk-quickstart-ubuntu-$$"
step "starting $container"
docker run -d --rm --name "$container" --cgroupns private --cap-add SYS_ADMIN \
  --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
  --security-opt systempaths=unconfined "$image" sleep infinity >/dev/null
docker exec "$container" sh -c '
  for m in $(awk "\$3 ~ /^cgroup/ {print \$2}" /proc/mounts); do
    mount -o remount,bind,rw "$m" 2>/dev/null || echo "    $m stays read-only"
  done'
# The host's own network settings, which a stock machine does not have but this one may need
# to reach the mirrors (a proxy that re-signs TLS): its local CAs and pip's global settings.
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
  step "trusting the host's local CAs ($(cd /usr/local/share/ca-certificates && echo *.crt))"
  tar -C /usr/local/share/ca-certificates -c . \
    | docker exec -i "$container" tar -x -C /usr/local/share/ca-certificates
  docker exec "$container" update-ca-certificates >/dev/null 2>&1
fi
[ ! -f /etc/pip.conf ] || docker cp /etc/pip.conf "$container:/etc/pip.conf"
# A copy of the checkout as it is (uncommitted changes too), without what .gitignore keeps
# out (what installs, builds and test runs leave).
tar -c --exclude=./.git --exclude=./.venv --exclude='*.egg-info' --exclude='__pycache__' \
  --exclude=./.mypy_cache --exclude=./.ruff_cache --exclude=./.pytest_cache \
  --exclude=node_modules --exclude=./build --exclude=./dist --exclude=./test-artifacts \
  --exclude='*.log' . \
  | docker exec -i "$container" sh -c 'mkdir -p /root/pywhisk && tar -x -C /root/pywhisk'
step "running deploy/check-quickstart.sh in it, as root (no sudo)"
if ! docker exec -w /root/pywhisk "$container" bash deploy/check-quickstart.sh; then
  echo "the quick start failed on Ubuntu 24.04 after $((SECONDS - started))s" >&2
  exit 1
fi
# Once installed, the command is quick to run again: no apt, the same virtual environment,
# no pip.
step "running it again: nothing may be installed this time"
if ! again="$(docker exec -w /root/pywhisk "$container" bash deploy/check-quickstart.sh 2>&1)"; then
  echo "$again" >&2
  echo "the quick start's second run failed on Ubuntu 24.04" >&2
  exit 1
fi
echo "$again"
if grep -E '^ +==> (installing|creating)' <<<"$again" >&2; then
  echo "the quick start's second run installed again (above)" >&2
  exit 1
fi
step "the quick start works on Ubuntu 24.04"
