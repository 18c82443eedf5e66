# Sourced by the deploy scripts: installs the language runtimes actions need, and bubblewrap
# (the process containers' sandbox), if missing.
install_runtimes() {
  local missing=()
  command -v php >/dev/null 2>&1 || missing+=(php-cli)
  command -v node >/dev/null 2>&1 || missing+=(nodejs)
  [ -x /usr/bin/python3 ] || missing+=(python3)
  command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "==> installing ${missing[*]} (apt)"
  local sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}"
}
