#!/usr/bin/env bash
# The README's first command as a user of a stock Debian/Ubuntu runs it: only the
# distribution's python3 (PATH=/usr/sbin:/usr/bin:/sbin:/bin, nothing else of ours), a home
# of its own (so the real ~/.wskprops and ~/.local/bin are left alone). It installs what
# deploy/standalone.sh installs, starts the server on a free port, creates and invokes an
# action with the `wsk` it linked into ~/.local/bin, and stops the server again.
# deploy/test.sh runs it before the test suite; it shares the checkout's .venv with it.
set -euo pipefail
cd "$(dirname "$0")/.."
stock_path=/usr/sbin:/usr/bin:/sbin:/bin
work="$(mktemp -d)"
server=""
cleanup() {
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
    kill -TERM "$server"
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/home"
port="$(env -i PATH="$stock_path" python3 -c \
  'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

echo "==> quick start as a stock Debian user would run it (PATH=$stock_path)"
env -i HOME="$work/home" PATH="$stock_path" ${PYWHISK_VENV:+PYWHISK_VENV="$PYWHISK_VENV"} \
  bash deploy/standalone.sh --port "$port" --data-dir "$work/data" >"$work/server.log" 2>&1 &
server=$!
waited=0
until grep -q "is ready at" "$work/server.log"; do
  if ! kill -0 "$server" 2>/dev/null || [ "$waited" -ge 600 ]; then
    echo "deploy/standalone.sh did not start the server:" >&2
    tail -n 30 "$work/server.log" >&2
    exit 1
  fi
  sleep 1
  waited=$((waited + 1))
done

printf 'def main(args):\n    return {"msg": "Hello " + args.get("name", "World")}\n' >"$work/hello.py"
as_user=(env -i HOME="$work/home" PATH="$work/home/.local/bin:$stock_path")
"${as_user[@]}" wsk action update hello "$work/hello.py" >/dev/null
answer="$("${as_user[@]}" wsk action invoke hello --result --param name Debian)"
if [[ "$answer" != *'"msg": "Hello Debian"'* ]]; then
  echo "the quick start's action answered: $answer" >&2
  exit 1
fi
echo "==> quick start works: wsk invoked an action on the server it started"
