#!/usr/bin/env bash
# mypy over the code, the tests, the benchmarks and the examples, with the code seen under its
# installed names (pywhisk.common, pywhisk.controller, ...). mypy cannot follow setuptools'
# package-dir mapping, so a throw-away tree of links gives it the pywhisk/ folder the wheel has.
set -euo pipefail
cd "$(dirname "$0")/.."
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir "$tree/pywhisk"
for package in common controller invoker cli action_runtime deploy; do
  ln -s "$PWD/$package" "$tree/pywhisk/$package"
done
MYPYPATH="$tree" exec python -m mypy --explicit-package-bases "$tree/pywhisk" bench tests examples "$@"
