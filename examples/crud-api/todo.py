"""A small to-do API: five web actions in one package, one function each, all in this file.

The actions keep no state of their own: every activation opens the SQLite database whose
path the package gives them as the parameter `db` (the talk: "state is external"), so any
container, warm or new, sees the same to-do items.

    GET    /api/v1/web/<ns>/todo/list[?done=true|false]    list_todos    200 [items]
    POST   /api/v1/web/<ns>/todo/create  {"title": …}      create_todo   201 item + Location
    GET    /api/v1/web/<ns>/todo/read/<id>                 read_todo     200 item | 404
    PUT    /api/v1/web/<ns>/todo/update/<id>  {"title"?, "done"?}  update_todo  200 item | 404
    DELETE /api/v1/web/<ns>/todo/delete/<id>               delete_todo   204 | 404

Errors are JSON `{"error": …}` with 400, 404 or 405 (with `Allow`).
"""

import sqlite3
from contextlib import closing

MAX_TITLE = 200
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS todos ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " title TEXT NOT NULL,"
    " done INTEGER NOT NULL DEFAULT 0)"
)


class Refusal(Exception):
    def __init__(self, status, message, headers=None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def reply(status, body=None, headers=None):
    response = {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", **(headers or {})},
    }
    if body is not None:
        response["body"] = body
    return response


def handler(method):
    """One HTTP method per action; a refusal becomes a JSON error response."""

    def wrap(operation):
        def main(args):
            try:
                if args.get("__ow_method") != method:
                    raise Refusal(405, f"use {method.upper()}", {"Allow": method.upper()})
                with closing(connect(args)) as db:
                    return operation(db, args)
            except Refusal as refusal:
                return reply(refusal.status, {"error": refusal.message}, refusal.headers)

        return main

    return wrap


def connect(args):
    path = args.get("db")
    if not path:
        raise Refusal(500, "the package parameter db (a SQLite file path) is not set")
    db = sqlite3.connect(path, timeout=10, isolation_level=None)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA journal_mode=WAL")  # readers do not wait for writers
    db.execute(SCHEMA)
    return db


def as_json(row):
    return {"id": row["id"], "title": row["title"], "done": bool(row["done"])}


def item_id(args):
    text = args.get("__ow_path", "").strip("/")
    if not text.isdigit():
        raise Refusal(400, "put the item's id in the path, e.g. …/read/3")
    return int(text)


def fetch(db, todo_id):
    row = db.execute("SELECT * FROM todos WHERE id = ?", (todo_id,)).fetchone()
    if row is None:
        raise Refusal(404, f"no to-do item {todo_id}")
    return row


def title_of(args, required):
    title = args.get("title")
    if title is None and not required:
        return None
    if not isinstance(title, str) or not title.strip():
        raise Refusal(400, "title must be a non-empty string")
    if len(title) > MAX_TITLE:
        raise Refusal(400, f"title must be at most {MAX_TITLE} characters")
    return title.strip()


@handler("get")
def list_todos(db, args):
    done = args.get("done")
    if done is None:
        rows = db.execute("SELECT * FROM todos ORDER BY id").fetchall()
    elif done in ("true", "false"):
        rows = db.execute("SELECT * FROM todos WHERE done = ? ORDER BY id", (done == "true",))
    else:
        raise Refusal(400, "done must be true or false")
    return reply(200, [as_json(row) for row in rows])


@handler("post")
def create_todo(db, args):
    cursor = db.execute("INSERT INTO todos (title) VALUES (?)", (title_of(args, required=True),))
    row = fetch(db, cursor.lastrowid)
    return reply(201, as_json(row), {"Location": f"read/{row['id']}"})


@handler("get")
def read_todo(db, args):
    return reply(200, as_json(fetch(db, item_id(args))))


@handler("put")
def update_todo(db, args):
    todo_id = item_id(args)
    fetch(db, todo_id)
    title, done = title_of(args, required=False), args.get("done")
    if done is not None and not isinstance(done, bool):
        raise Refusal(400, "done must be true or false")
    if title is not None:
        db.execute("UPDATE todos SET title = ? WHERE id = ?", (title, todo_id))
    if done is not None:
        db.execute("UPDATE todos SET done = ? WHERE id = ?", (done, todo_id))
    return reply(200, as_json(fetch(db, todo_id)))


@handler("delete")
def delete_todo(db, args):
    todo_id = item_id(args)
    fetch(db, todo_id)
    db.execute("DELETE FROM todos WHERE id = ?", (todo_id,))
    return reply(204)
