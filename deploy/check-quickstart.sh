#!/usr/bin/env bash
# The README's first command as a user of a stock Debian/Ubuntu runs it: only the
# distribution's python3 (PATH=/usr/sbin:/usr/bin:/sbin:/bin, nothing else of ours), a home
# of its own (so the real ~/.wskprops and ~/.local/bin are left alone). It installs what
# deploy/standalone.sh installs, starts the server on a free port, creates and invokes an
# action with the `wsk` it linked into ~/.local/bin, and stops the server again.
# deploy/test.sh runs it before the test suite (it shares the checkout's .venv with it), and
# deploy/check-quickstart-ubuntu.sh runs it in a stock Ubuntu 24.04 container.
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
# A new user's home, as useradd makes it: /etc/skel's .profile is what puts ~/.local/bin on
# PATH in a login shell once the directory exists.
mkdir -p "$work/home"
[ ! -d /etc/skel ] || cp -rT /etc/skel "$work/home"
port="$(env -i PATH="$stock_path" python3 -c \
  'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

fail() {
  echo "$1" >&2
  echo "the end of the server's log:" >&2
  tail -n 30 "$work/server.log" >&2
  exit 1
}
distro="$(. /etc/os-release && echo "$PRETTY_NAME")"
echo "==> quick start as a user of a stock $distro would run it (PATH=$stock_path)"
env -i HOME="$work/home" PATH="$stock_path" ${PYWHISK_VENV:+PYWHISK_VENV="$PYWHISK_VENV"} \
  bash deploy/standalone.sh --port "$port" --data-dir "$work/data" >"$work/server.log" 2>&1 &
server=$!
waited=0
until grep -q "is ready at" "$work/server.log"; do
  if ! kill -0 "$server" 2>/dev/null || [ "$waited" -ge 600 ]; then
    fail "deploy/standalone.sh did not start the server (${waited}s)"
  fi
  sleep 1
  waited=$((waited + 1))
done
echo "==> the server is ready (${waited}s); what deploy/standalone.sh did:"
grep '^==> ' "$work/server.log" | sed 's/^/    /'

# The README's example (PHP), and Python's and Node.js's, as the distribution packages them.
cat >"$work/hello.php" <<'PHP'
<?php
function main(array $args) : array {
    $name = $args['name'] ?? 'World';
    return ['msg' => "Hello $name"];
}
PHP
printf 'def main(args):\n    return {"msg": "Hello " + args.get("name", "World")}\n' >"$work/hello.py"
printf 'function main(params) {\n  return {msg: "Hello " + (params.name || "World")};\n}\n' \
  >"$work/hello.js"
# ~/.local/bin is not on the distribution's PATH, so the script must have said how to add it;
# the user's next login shell has it (the .profile above), and runs wsk from there.
if ! grep -qF 'export PATH="$HOME/.local/bin:$PATH"' "$work/server.log"; then
  fail "deploy/standalone.sh did not print the line that puts ~/.local/bin on PATH"
fi
as_user=(env -i HOME="$work/home" PATH="$stock_path" bash -lc '"$@"' login-shell)
[ "$("${as_user[@]}" command -v wsk)" = "$work/home/.local/bin/wsk" ] \
  || fail "a new login shell does not find wsk in ~/.local/bin"
for file in hello.php hello.py hello.js; do
  name="${file/./-}"
  "${as_user[@]}" wsk action update "$name" "$work/$file" >/dev/null \
    || fail "wsk action update $name $file failed"
  answer="$("${as_user[@]}" wsk action invoke "$name" --result --param name Rob 2>&1)" \
    || fail "wsk action invoke $name failed: $answer"
  if [[ "$answer" != *'"msg": "Hello Rob"'* ]]; then
    fail "the quick start's $file answered: $answer"
  fi
  echo "    $file: $(tr -s '\n ' ' ' <<<"$answer")"
done
echo "==> the runtimes it ran on: $("${as_user[@]}" python3 -V)," \
  "PHP $("${as_user[@]}" php -r 'echo PHP_VERSION;'), Node.js $("${as_user[@]}" node --version)," \
  "bubblewrap $("${as_user[@]}" bwrap --version | cut -d' ' -f2)"
if grep -q WARNING "$work/server.log"; then
  echo "==> the server's warnings:"
  grep WARNING "$work/server.log" | head -n 5 | sed 's/^/    /'
fi
echo "==> quick start works on $distro: wsk invoked actions on the server it started"
