#!/bin/sh
# Deploy the to-do API with wsk: the package `todo` holds the database path, and five web
# actions in it share todo.py, each with its own entry function.
set -e
DB=${1:?usage: deploy.sh /absolute/path/to/todo.sqlite}
cd "$(dirname "$0")"
wsk package update todo -p db "$DB"
wsk action update todo/list todo.py --main list_todos --web true
for op in create read update delete; do
    wsk action update "todo/$op" todo.py --main "${op}_todo" --web true
done
