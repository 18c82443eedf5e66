# Sourced by the deploy scripts: a running Docker engine, plus debootstrap (which makes the base
# image the runtime images are built from, since no registry is needed or used).
#   ensure_docker   installs docker.io and debootstrap with apt if missing (as root, or with
#                   sudo), starts dockerd in the background if `docker info` fails, and waits
#                   for it (at most PYWHISK_DOCKERD_WAIT seconds, default 60).
# dockerd's output goes to PYWHISK_DOCKERD_LOG (default /var/log/dockerd.log).
ensure_docker() {
  local sudo_cmd=() missing=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  command -v dockerd >/dev/null 2>&1 || [ -x /usr/sbin/dockerd ] || missing+=(docker.io)
  command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || missing+=(debootstrap)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "==> installing ${missing[*]} (apt)"
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}"
  fi

  local problem
  if problem="$(docker info 2>&1 >/dev/null)"; then
    echo "==> docker engine is running"
    return 0
  fi
  if [[ "$problem" == *"permission denied"* ]]; then
    echo "dockerd runs but $(id -un) may not use it: $problem" >&2
    echo "add the user to the docker group (usermod -aG docker $(id -un)) and log in again" >&2
    return 1
  fi
  local log="${PYWHISK_DOCKERD_LOG:-/var/log/dockerd.log}"
  local limit="${PYWHISK_DOCKERD_WAIT:-60}"
  if pgrep -x dockerd >/dev/null 2>&1; then
    echo "==> dockerd is starting; waiting for it"
  else
    local dockerd
    dockerd="$(command -v dockerd || echo /usr/sbin/dockerd)"
    echo "==> starting dockerd in the background (log: $log)"
    "${sudo_cmd[@]}" sh -c "nohup '$dockerd' >>'$log' 2>&1 </dev/null &"
  fi
  local waited=0
  until docker info >/dev/null 2>&1; do
    if [ "$waited" -ge "$limit" ]; then
      echo "dockerd did not answer within ${limit}s; the end of $log:" >&2
      "${sudo_cmd[@]}" tail -n 20 "$log" >&2 || true
      return 1
    fi
    if [ $((waited % 5)) -eq 0 ]; then
      echo "    waiting for dockerd (${waited}s)"
    fi
    sleep 1
    waited=$((waited + 1))
  done
  echo "==> docker engine is running (after ${waited}s)"
}
