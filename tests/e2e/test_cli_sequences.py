"""Sequences with the real `wsk` against a real standalone server: OW docs' split → sort →
join across Python, PHP and Node, an error mid-chain, `wsk activation get` of the
sequence, a component in a package, and refusals as wsk prints them."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.support.actions import JOIN, SORT, SPLIT
from tests.support.rest import wait_for_record
from tests.support.wsk import ACTIVATION_ID, Wsk


def chain(wsk: Wsk, tmp_path: Path) -> None:
    for name, text in (("split.py", SPLIT), ("sort.php", SORT), ("join.js", JOIN)):
        (tmp_path / name).write_text(text)
    wsk("action", "create", "split", "split.py", cwd=tmp_path)
    wsk("action", "create", "sort", "sort.php", cwd=tmp_path)
    wsk("action", "create", "join", "join.js", "--param", "glue", " < ", cwd=tmp_path)
    created = wsk("action", "create", "words", "--sequence", "split,sort,join")
    assert created.stdout == "ok: created action words\n"


def body(output: str) -> dict[str, object]:
    """The JSON wsk prints under its `ok: …` line."""
    return json.loads(output.split("\n", 1)[1])  # type: ignore[no-any-return]


def test_split_sort_join(wsk: Wsk, tmp_path: Path, api: httpx.Client) -> None:
    chain(wsk, tmp_path)
    got = wsk("action", "invoke", "words", "--result", "--param", "text", "pear apple fig")
    assert got.stdout == '{\n    "text": "apple < fig < pear"\n}\n'

    exec_ = body(wsk("action", "get", "words", "exec").stdout)
    assert exec_["kind"] == "sequence"
    assert [str(c).rsplit("/", 1)[1] for c in exec_["components"]] == ["split", "sort", "join"]  # type: ignore[attr-defined]

    invoked = wsk("action", "invoke", "words", "--param", "text", "b a").stdout
    match = ACTIVATION_ID.search(invoked)
    assert match, invoked
    # non-blocking: the sequence's id at once, its record once the chain has run
    wait_for_record(api, match.group(1))
    got = wsk("activation", "get", match.group(1))
    assert got.stdout.startswith(f"ok: got activation {match.group(1)}\n")
    record = body(got.stdout)
    assert record["response"]["result"] == {"text": "a < b"}  # type: ignore[index]
    kinds = {a["key"]: a["value"] for a in record["annotations"]}  # type: ignore[attr-defined]
    assert kinds["kind"] == "sequence" and kinds["topmost"] is True
    names = [body(wsk("activation", "get", i).stdout)["name"] for i in record["logs"]]  # type: ignore[attr-defined]
    assert names == ["split", "sort", "join"]
    for component in record["logs"]:  # type: ignore[attr-defined]
        cause = wsk("activation", "get", component, "cause").stdout
        assert match.group(1) in cause


def test_an_error_mid_chain_is_the_sequences_error(wsk: Wsk, tmp_path: Path) -> None:
    chain(wsk, tmp_path)
    failed = wsk("action", "invoke", "words", "--result", "-p", "text", "x boom", check=False)
    assert failed.returncode == 246  # 502, as wsk exits
    assert failed.stderr == '{\n    "error": "cannot sort boom"\n}\n'
    blocking = wsk("action", "invoke", "words", "--blocking", "-p", "text", "x boom", check=False)
    assert blocking.returncode == 246
    record = json.loads(blocking.stderr.split("\n", 1)[1])
    assert record["response"]["status"] == "application error"
    assert len(record["logs"]) == 2  # split and sort ran; join did not


def test_a_component_in_a_package(wsk: Wsk, tmp_path: Path) -> None:
    chain(wsk, tmp_path)
    wsk("package", "create", "tools")
    wsk("action", "create", "tools/split", "split.py", cwd=tmp_path)
    wsk("action", "create", "packed", "--sequence", "tools/split,sort,join")
    got = wsk("action", "invoke", "packed", "-r", "-p", "text", "y x")
    assert json.loads(got.stdout) == {"text": "x < y"}


def test_the_openwhisk_docs_example_with_the_catalog(wsk: Wsk) -> None:
    # docs/actions.md "Creating action sequences", on /whisk.system/utils
    components = "/whisk.system/utils/split,/whisk.system/utils/sort"
    wsk("action", "create", "sequenceAction", "--sequence", components)
    haiku = r"Over-ripe sushi,\nThe Master\nIs full of regret."  # as typed in a shell
    got = wsk(
        "action", "invoke", "--blocking", "--result", "sequenceAction", "-p", "payload", haiku
    )
    assert json.loads(got.stdout) == {
        "length": 3,
        "lines": ["Is full of regret.", "Over-ripe sushi,", "The Master"],
    }


def test_refusals(wsk: Wsk, tmp_path: Path) -> None:
    chain(wsk, tmp_path)
    missing = wsk("action", "create", "bad", "--sequence", "split,nope", check=False)
    assert missing.returncode == 144  # 400, as wsk exits
    assert missing.stderr.startswith(
        "error: Unable to create action 'bad': Sequence component does not exist. (code "
    )
    self_ = wsk("action", "create", "loop", "--sequence", "split,loop", check=False)
    assert "Sequence may not refer to itself." in self_.stderr
    cycle = wsk("action", "update", "split", "--sequence", "words", check=False)
    # wsk words update failures as create failures (actionInsertError)
    assert cycle.stderr.startswith(
        "error: Unable to create action 'split': Sequence may not refer to itself. (code "
    )
    long = wsk("action", "create", "long", "--sequence", ",".join(["split"] * 51), check=False)
    assert "Too many actions in the sequence." in long.stderr
