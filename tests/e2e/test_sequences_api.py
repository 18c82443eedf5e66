"""Sequences over the real REST API of a real standalone server, with Python, PHP and Node
components (docs/openwhisk-compatibility.md §1.3.1 item 5, §6.1; OW SequenceApiTests, WskActionSequenceTests)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pywhisk.common.entities import Identity
from tests.support.actions import JOIN, SORT, SPLIT
from tests.support.rest import invoke, put_action, put_sequence, wait_for_record
from tests.support.server import StandaloneServer

NAP = "import time\ndef main(args):\n    time.sleep(2)\n    return {'words': ['late']}\n"


@pytest.fixture
def chain(api: httpx.Client) -> httpx.Client:
    """split (Python) → sort (PHP) → join (Node, joining with its own default `glue`)."""
    put_action(api, "split", SPLIT)
    put_action(api, "sort", SORT, "php:8.2")
    put_action(api, "join", JOIN, "nodejs:20", parameters=[{"key": "glue", "value": "-"}])
    r = put_sequence(api, "words", ["/_/split", "/_/sort", "/_/join"])
    assert r.status_code == 200, r.text
    return api


def annotation_map(record: dict[str, Any]) -> dict[str, Any]:
    return {a["key"]: a["value"] for a in record["annotations"]}


def record(api: httpx.Client, activation_id: str) -> dict[str, Any]:
    r = api.get(f"/namespaces/_/activations/{activation_id}")
    assert r.status_code == 200, r.text
    return r.json()


def test_each_output_is_the_next_input(chain: httpx.Client, namespace: Identity) -> None:
    ns = namespace.namespace
    stored = chain.get("/namespaces/_/actions/words").json()
    components = [f"/{ns}/split", f"/{ns}/sort", f"/{ns}/join"]
    assert stored["exec"] == {"kind": "sequence", "components": components}
    assert stored["parameters"] == [{"key": "_actions", "value": components}]

    r = invoke(chain, "words", {"text": "pear apple fig"})
    assert r.status_code == 200, r.text
    seq = r.json()
    assert seq["response"]["result"] == {"text": "apple-fig-pear"}
    assert seq["response"]["status"] == "success"
    assert r.headers["x-openwhisk-activation-id"] == seq["activationId"]
    assert annotation_map(seq) == {
        "topmost": True,
        "path": f"{ns}/words",
        "kind": "sequence",
        "waitTime": annotation_map(seq)["waitTime"],
        "limits": {"timeout": 60000, "memory": 256, "logs": 10, "concurrency": 1},
    }
    # the sequence's logs are its components' activation ids, in order
    parts = [record(chain, i) for i in seq["logs"]]
    assert [p["name"] for p in parts] == ["split", "sort", "join"]
    assert [p["response"]["result"] for p in parts] == [
        {"words": ["pear", "apple", "fig"]},
        {"words": ["apple", "fig", "pear"]},
        {"text": "apple-fig-pear"},
    ]
    for part in parts:
        assert part["cause"] == seq["activationId"]
        assert annotation_map(part)["causedBy"] == "sequence"
    assert seq["duration"] == sum(p["duration"] for p in parts)
    # the stored record is what the blocking caller got
    stored_seq = record(chain, seq["activationId"])
    assert stored_seq["logs"] == seq["logs"] and stored_seq["response"] == seq["response"]

    assert invoke(chain, "words", {"text": "b a"}, result="true").json() == {"text": "a-b"}


def test_an_error_stops_the_chain_and_is_the_result(chain: httpx.Client) -> None:
    r = invoke(chain, "words", {"text": "x boom y"})
    assert r.status_code == 502, r.text
    seq = r.json()
    assert seq["response"]["status"] == "application error"
    assert seq["response"]["result"] == {"error": "cannot sort boom"}
    assert [record(chain, i)["name"] for i in seq["logs"]] == ["split", "sort"]
    listed = chain.get("/namespaces/_/activations", params={"name": "join"}).json()
    assert listed == []  # join never ran


def test_non_blocking_answers_at_once_and_the_record_follows(chain: httpx.Client) -> None:
    r = chain.post("/namespaces/_/actions/words", json={"text": "b c a"})
    assert r.status_code == 202, r.text
    activation_id = r.json()["activationId"]
    assert r.headers["x-openwhisk-activation-id"] == activation_id
    seq = wait_for_record(chain, activation_id)
    assert seq["response"]["result"] == {"text": "a-b-c"}
    assert len(seq["logs"]) == 3


def test_a_sequence_outlasting_the_blocking_wait_answers_202_and_still_records(
    chain: httpx.Client,
) -> None:
    put_action(chain, "nap", NAP)
    assert put_sequence(chain, "slow", ["/_/nap", "/_/join"]).status_code == 200
    r = invoke(chain, "slow", timeout="500")
    assert r.status_code == 202, r.text
    seq = wait_for_record(chain, r.json()["activationId"])
    assert seq["response"]["result"] == {"text": "late"}
    assert [record(chain, i)["name"] for i in seq["logs"]] == ["nap", "join"]


def test_a_component_deleted_after_creation(chain: httpx.Client) -> None:
    assert chain.delete("/namespaces/_/actions/sort").status_code == 200
    r = invoke(chain, "words", {"text": "b a"})
    assert r.status_code == 502, r.text
    seq = r.json()
    assert seq["response"]["status"] == "application error"
    assert seq["response"]["result"] == {"error": "Sequence component does not exist."}
    assert [record(chain, i)["name"] for i in seq["logs"]] == ["split"]


def test_nested_sequences(chain: httpx.Client, namespace: Identity) -> None:
    assert put_sequence(chain, "inner", ["/_/split", "/_/sort"]).status_code == 200
    assert put_sequence(chain, "outer", ["/_/inner", "/_/join"]).status_code == 200
    r = invoke(chain, "outer", {"text": "c b a"})
    assert r.status_code == 200, r.text
    outer = r.json()
    assert outer["response"]["result"] == {"text": "a-b-c"}
    inner, join = (record(chain, i) for i in outer["logs"])
    assert (inner["name"], join["name"]) == ("inner", "join")
    assert inner["cause"] == outer["activationId"] and join["cause"] == outer["activationId"]
    assert annotation_map(inner)["topmost"] is False
    assert annotation_map(inner)["causedBy"] == "sequence"
    assert [record(chain, i)["cause"] for i in inner["logs"]] == [inner["activationId"]] * 2
    assert "cause" not in outer


def test_components_in_a_package_and_through_a_binding(
    chain: httpx.Client, namespace: Identity
) -> None:
    ns = namespace.namespace
    assert chain.put("/namespaces/_/packages/tools", json={}).status_code == 200
    put_action(chain, "tools/split", SPLIT)
    binding = {
        "binding": {"namespace": "_", "name": "tools"},
        "parameters": [{"key": "sep", "value": ","}],
    }
    assert chain.put("/namespaces/_/packages/commas", json=binding).status_code == 200
    assert put_sequence(chain, "packed", ["/_/tools/split", "_/sort", "/_/join"]).status_code == 200
    assert (
        put_sequence(chain, "bound", ["/_/commas/split", "/_/sort", "/_/join"]).status_code == 200
    )

    r = invoke(chain, "packed", {"text": "y x"}, result="true")
    assert (r.status_code, r.json()) == (200, {"text": "x-y"})
    r = invoke(chain, "bound", {"text": "y,x"})
    assert r.status_code == 200, r.text
    assert r.json()["response"]["result"] == {"text": "x-y"}
    split = record(chain, r.json()["logs"][0])
    assert annotation_map(split)["path"] == f"{ns}/tools/split"
    assert annotation_map(split)["binding"] == f"{ns}/commas"


def error_of(r: httpx.Response, status: int) -> str:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error", "code"}
    return str(body["error"])


def test_invalid_sequences_are_refused(chain: httpx.Client) -> None:
    assert error_of(put_sequence(chain, "s", []), 400) == "No component specified for the sequence."
    nothing = chain.put("/namespaces/_/actions/s", json={"exec": {"kind": "sequence"}})
    assert error_of(nothing, 400) == (
        "The request content was malformed:\n'components' must be defined for sequence kind"
    )
    assert error_of(put_sequence(chain, "s", ["split"]), 400) == (
        "The request content was malformed:\nrequirement failed: The fully qualified name of "
        "the entity must contain at least the namespace and the name of the entity."
    )
    missing = put_sequence(chain, "s", ["/_/split", "/_/nope"])
    assert error_of(missing, 400) == "Sequence component does not exist."
    assert error_of(put_sequence(chain, "s", ["/_/split", "/_/s"]), 400) == (
        "Sequence may not refer to itself."
    )
    assert chain.get("/namespaces/_/actions/s").status_code == 404  # nothing was stored


def test_an_update_may_not_make_a_cycle(chain: httpx.Client) -> None:
    assert put_sequence(chain, "t", ["/_/words", "/_/split"]).status_code == 200
    # words -> t -> words
    r = put_sequence(chain, "words", ["/_/split", "/_/t"])
    assert error_of(r, 400) == "Sequence may not refer to itself."
    # nor may a plain action become a sequence that runs itself through another
    r = put_sequence(chain, "split", ["/_/t"])
    assert error_of(r, 400) == "Sequence may not refer to itself."
    assert chain.get("/namespaces/_/actions/split").json()["exec"]["kind"] == "python:3.11"
    kept = chain.get("/namespaces/_/actions/words").json()["exec"]["components"]
    assert [c.rsplit("/", 1)[1] for c in kept] == ["split", "sort", "join"]


def test_a_cycle_through_a_binding(chain: httpx.Client) -> None:
    assert chain.put("/namespaces/_/packages/pkg", json={}).status_code == 200
    bind = {"binding": {"namespace": "_", "name": "pkg"}}
    assert chain.put("/namespaces/_/packages/alias", json=bind).status_code == 200
    assert put_sequence(chain, "pkg/s", ["/_/split"]).status_code == 200
    # pkg/s -> alias/s, which is pkg/s itself
    r = put_sequence(chain, "pkg/s", ["/_/split", "/_/alias/s"])
    assert error_of(r, 400) == "Sequence may not refer to itself."


def test_the_limit_counts_atomic_actions(chain: httpx.Client) -> None:
    assert put_sequence(chain, "fifty", ["/_/split"] * 50).status_code == 200
    too_long = "Too many actions in the sequence."
    assert error_of(put_sequence(chain, "s", ["/_/split"] * 51), 400) == too_long
    # 17 × words (3 actions each) = 51 once inlined
    assert error_of(put_sequence(chain, "s", ["/_/words"] * 17), 400) == too_long
    assert put_sequence(chain, "s", ["/_/words"] * 16).status_code == 200


def test_components_of_another_namespace(
    chain: httpx.Client, server: StandaloneServer, namespace: Identity
) -> None:
    other = server.create_namespace(f"{namespace.namespace}_other")
    uuid, _, key = other.auth.partition(":")
    with httpx.Client(base_url=f"{server.url}/api/v1", auth=(uuid, key), timeout=90) as them:
        put_action(them, "secret", SPLIT)
        assert them.put("/namespaces/_/packages/shared", json={"publish": True}).status_code == 200
        put_action(them, "shared/split", SPLIT)
    theirs = other.namespace
    r = put_sequence(chain, "s", [f"/{theirs}/secret", "/_/sort", f"/{theirs}/nope"])
    assert error_of(r, 403) == (
        f"The supplied authentication is not authorized to access '{theirs}/nope, {theirs}/secret'."
    )
    # a public package's actions may be used by anyone
    assert (
        put_sequence(chain, "s", [f"/{theirs}/shared/split", "/_/sort", "/_/join"]).status_code
        == 200
    )
    r = invoke(chain, "s", {"text": "b a"}, result="true")
    assert (r.status_code, r.json()) == (200, {"text": "a-b"})
