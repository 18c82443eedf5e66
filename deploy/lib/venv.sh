# Sourced by the deploy scripts: pywhisk in a virtual environment of its own, made with the
# distribution's python3. Debian 12 and Ubuntu 24.04 mark their Python externally managed
# (PEP 668), so `pip install` into it is refused; a venv is what they ask for instead.
#   ensure_venv [EXTRAS]  makes $PYWHISK_VENV (default: .venv in the checkout) with
#                         `python3 -m venv` (installing python3-venv with apt if the venv
#                         module is missing), pip-installs the checkout into it (editable,
#                         with EXTRAS, e.g. "test,docker"), and puts its bin/ first on PATH.
#                         The install is skipped when pyproject.toml has not changed since
#                         an install with at least these extras (a stamp in the venv).
#   link_commands         symlinks wsk and pywhisk into ~/.local/bin, and prints the line to
#                         add to the shell's profile if that directory is not on PATH.
# The checkout is the current directory (the scripts cd there first).

PYWHISK_VENV="${PYWHISK_VENV:-$PWD/.venv}"
_VENV_USER_PATH="$PATH"  # as the user has it, before ensure_venv puts the venv first

_venv_sudo() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

_venv_python() {
  local python="${PYWHISK_PYTHON:-python3}"
  if ! command -v "$python" >/dev/null 2>&1; then
    echo "pywhisk needs Python >= 3.11: $python is not installed (apt-get install python3)" >&2
    return 1
  fi
  if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "pywhisk needs Python >= 3.11; $python is $("$python" -V 2>&1)" >&2
    return 1
  fi
  echo "$python"
}

ensure_venv() {
  local extras="${1:-}" python
  if [ ! -x "$PYWHISK_VENV/bin/python" ]; then
    python="$(_venv_python)" || return 1
    echo "==> creating the virtual environment $PYWHISK_VENV ($("$python" -V 2>&1))"
    if ! "$python" -m venv "$PYWHISK_VENV" >/dev/null 2>&1; then
      # Debian ships the venv module (ensurepip) apart from python3.
      rm -rf "$PYWHISK_VENV"
      echo "==> installing python3-venv (apt)"
      _venv_sudo apt-get update -qq
      DEBIAN_FRONTEND=noninteractive _venv_sudo apt-get install -y -qq python3-venv
      "$python" -m venv "$PYWHISK_VENV"
    fi
  fi
  local stamp="$PYWHISK_VENV/.pywhisk-install" want have
  want="$(sha256sum pyproject.toml | cut -c1-16)"
  have="$(cat "$stamp" 2>/dev/null || true)"
  if [ "${have%% *}" != "$want" ] || ! _venv_has_extras "${have#* }" "$extras"; then
    local all="$extras"
    [ "${have%% *}" = "$want" ] && all="$(_venv_union "${have#* }" "$extras")"
    echo "==> installing pywhisk${all:+ [$all]} into $PYWHISK_VENV (pip)"
    "$PYWHISK_VENV/bin/python" -m pip install -q --disable-pip-version-check -e ".${all:+[$all]}"
    echo "$want $all" >"$stamp"
  fi
  export PATH="$PYWHISK_VENV/bin:$PATH"
}

_venv_has_extras() {  # $1: installed (comma list), $2: wanted (comma list)
  local extra
  for extra in ${2//,/ }; do
    [[ ",$1," == *",$extra,"* ]] || return 1
  done
}

_venv_union() {
  local out="$1" extra
  for extra in ${2//,/ }; do
    [[ ",$out," == *",$extra,"* ]] || out="${out:+$out,}$extra"
  done
  echo "$out"
}

link_commands() {
  local bin="$HOME/.local/bin" name
  mkdir -p "$bin"
  for name in wsk pywhisk; do
    if [ -e "$bin/$name" ] && [ ! -L "$bin/$name" ]; then
      echo "    $bin/$name exists and is not ours: left alone (pywhisk's is $PYWHISK_VENV/bin/$name)"
      continue
    fi
    ln -sfn "$PYWHISK_VENV/bin/$name" "$bin/$name"
  done
  case ":$_VENV_USER_PATH:" in
    *":$bin:"*) echo "==> wsk and pywhisk are in $bin" ;;
    *)
      echo "==> wsk and pywhisk are in $bin, which is not on your PATH; add it with:"
      # shellcheck disable=SC2016 # printed for the user to paste, unexpanded
      echo '    echo '\''export PATH="$HOME/.local/bin:$PATH"'\'' >> ~/.bashrc && . ~/.bashrc'
      ;;
  esac
}
