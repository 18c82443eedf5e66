"""The store contract against a real CouchDB HTTP API, plus what only CouchDB brings.

The server here is pouchdb-server 4.2.0 (`tests/support/couchdb.py` installs and starts it):
what these tests check is our side of the CouchDB HTTP API — the requests couchdb3 sends
for us, percent-encoded ids, revisions and 409s, `_bulk_docs` answers, view keys and ranges,
`_count` reductions, linked documents via include_docs, `validate_doc_update` refusals,
`/_session` cookie login — as pouchdb-server implements them.

Not checked here, only against real CouchDB 3 (docker-compose runs it): the map functions
on CouchDB's SpiderMonkey (they are plain ES5 for that reason); CouchDB's exact error bodies
(a revision it cannot parse is a 400 there, a 404 on pouchdb-server: the store checks a
revision's shape before sending it, and maps both to `Conflict`); `_bulk_docs` answers in
request order (matched by id here, so either order works); a missing linked document
(`"doc": null` there, absent here; both handled); clustered quorum reads (n=3);
`max_document_size` (8 MB by default there: a bigger action or record is refused, and a
refused record stays queued); session-cookie expiry and renewal; view build times on a
large database.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from pywhisk.common.entities import Identity, NamespaceLimits
from pywhisk.common.store.base import Conflict, StoreError, store_from_url
from pywhisk.common.store.couchdb import CouchDBStore, parse_url
from pywhisk.common.store.couchdb_design import ACTIVATIONS, SUBJECTS, USAGE, WHISKS
from tests.contract.api_docs_behavior import ApiDocsBehavior
from tests.contract.feed_registry_behavior import FeedRegistryBehavior
from tests.contract.layer_store_behavior import LayerStoreBehavior
from tests.contract.store_behavior import StoreBehavior
from tests.support.couchdb import PouchDBServer, TcpGate, couchdb_server
from tests.support.polling import wait_until_async
from tests.support.store_docs import activation, entity

__all__ = ["couchdb_server"]  # the session fixture, used by the fixtures below

_prefixes = itertools.count()


@pytest.fixture
def prefix(couchdb_server: PouchDBServer) -> Iterator[str]:
    """Databases of this test's own, dropped after it."""
    name = f"t{next(_prefixes)}_"
    yield name
    couchdb_server.drop_databases(name)


@pytest.fixture
async def store(couchdb_server: PouchDBServer, prefix: str) -> AsyncIterator[CouchDBStore]:
    s = store_from_url(couchdb_server.store_url(prefix))
    assert isinstance(s, CouchDBStore)
    await s.open()
    yield s
    await s.close()


@pytest.fixture
async def observer(
    couchdb_server: PouchDBServer, prefix: str, store: CouchDBStore
) -> AsyncIterator[CouchDBStore]:
    """A second client of the same databases: sees only what was written."""
    s = store_from_url(couchdb_server.store_url(prefix))
    assert isinstance(s, CouchDBStore)
    await s.open()
    yield s
    await s.close()


class TestCouchDBStore(StoreBehavior, FeedRegistryBehavior, ApiDocsBehavior, LayerStoreBehavior):
    pass


def count_requests(store: CouchDBStore) -> list[str]:
    """Every HTTP request the store sends from now on, as `METHOD path`."""
    seen: list[str] = []

    async def record(request: httpx.Request) -> None:
        seen.append(f"{request.method} {request.url.raw_path.decode()}")

    assert store._couch is not None
    store._couch.session.event_hooks["request"].append(record)
    return seen


# -- ids ----------------------------------------------------------------------------------------
async def test_ids_keep_slashes_spaces_and_at_signs(
    store: CouchDBStore, couchdb_server: PouchDBServer
) -> None:
    """The real OpenWhisk id is the CouchDB `_id`, not an attachment of `ns`."""
    odd = "ns/pkg 1/my act@1"
    rev = await store.entities.put(odd, entity("ns/pkg 1", "my act@1"), None)
    found = await store.entities.get(odd)
    assert found is not None and found == (entity("ns/pkg 1", "my act@1"), rev)
    assert await store.entities.get("ns") is None
    await store.activations.put(activation("ns", "e" * 32, 7, "ns/pkg 1/my act@1"))
    assert await store.activations.list("ns", name="pkg 1/my act@1") != []
    subject = Identity(namespace="ns", subject="someone@example.com/x", uuid="u", key="k")
    await store.subjects.put(subject)
    assert await store.subjects.by_auth("u", "k") == subject
    with couchdb_server.client() as client:
        ids = {
            family: [r["id"] for r in client.get(f"/{db}/_all_docs").json()["rows"]]
            for family, db in store.databases.items()
        }
    assert ids["whisks"] == [f"_design/{WHISKS}", odd]
    assert ids["activations"] == [f"_design/{ACTIVATIONS}", f"_design/{USAGE}", f"ns/{'e' * 32}"]
    assert ids["subjects"] == [f"_design/{SUBJECTS}", "someone@example.com/x"]
    await store.entities.delete(odd, rev)
    assert await store.entities.get(odd) is None


async def test_ids_couchdb_keeps_for_itself(store: CouchDBStore) -> None:
    """Ids starting with `_` are CouchDB's (`_design/…`): never read as entities, refused
    as writes with a StoreError that says so."""
    assert await store.entities.get(f"_design/{WHISKS}") is None
    assert await store.activations.get("_x", "a" * 32) is None
    with pytest.raises(StoreError, match="400"):
        await store.entities.put("_x/a", entity("_x", "a"), None)


# -- design documents ---------------------------------------------------------------------------
def design_revs(server: PouchDBServer, store: CouchDBStore) -> dict[str, str]:
    with server.client() as client:
        designs = {"whisks": WHISKS, "activations": ACTIVATIONS, "subjects": SUBJECTS}
        return {
            store.databases[family]: client.get(
                f"/{store.databases[family]}/_design/{name}"
            ).json()["_rev"]
            for family, name in designs.items()
        }


async def test_design_documents_are_created_once_and_survive_reopen(
    couchdb_server: PouchDBServer, prefix: str
) -> None:
    url = couchdb_server.store_url(prefix)
    first = CouchDBStore(url)
    await first.open()
    revs = design_revs(couchdb_server, first)
    assert all(rev.startswith("1-") for rev in revs.values())
    await first.entities.put("ns/p/a", entity("ns/p", "a", updated=5), None)
    await first.activations.put(activation("ns", "b" * 32, 1, "ns/p/a"))
    await first.subjects.put(Identity(namespace="ns", subject="s", uuid="u", key="k"))
    await first.close()  # flushes write-behind activations

    # Two processes opening at once (two controllers starting) find them there.
    again, other = CouchDBStore(url), CouchDBStore(url)
    await asyncio.gather(again.open(), other.open())
    await other.close()
    try:
        assert design_revs(couchdb_server, again) == revs
        assert [d["name"] for d in await again.entities.list("ns", "action")] == ["a"]
        assert await again.entities.count("ns", "action", package="p") == 1
        assert await again.activations.count("ns", name="p/a") == 1
        assert (await again.subjects.by_auth("u", "k")) is not None
    finally:
        await again.close()


async def test_a_changed_design_document_is_left_alone_with_a_warning(
    couchdb_server: PouchDBServer, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A view changed without a new version in its name: one release's processes must not
    rewrite another's views, so it stays as it is and the operator is told."""
    first = CouchDBStore(couchdb_server.store_url(prefix))
    await first.open()
    await first.close()
    db = first.databases["whisks"]
    with couchdb_server.client() as client:
        design = client.get(f"/{db}/_design/{WHISKS}").json()
        design["views"]["entities"]["map"] += " "
        changed = client.put(f"/{db}/_design/{WHISKS}", json=design).raise_for_status()
    second = CouchDBStore(couchdb_server.store_url(prefix))
    with caplog.at_level("WARNING", logger="pywhisk.common.store.couchdb"):
        await second.open()
    await second.close()
    assert f"{db}/_design/{WHISKS} differs" in caplog.text
    assert design_revs(couchdb_server, second)[db] == changed.json()["rev"]


# -- revisions ----------------------------------------------------------------------------------
async def test_a_concurrent_update_from_another_process_conflicts(
    store: CouchDBStore, couchdb_server: PouchDBServer, prefix: str
) -> None:
    """Two controllers (two clients, two sessions) update one action from the same revision."""
    other = CouchDBStore(couchdb_server.store_url(prefix))
    await other.open()
    try:
        rev = await store.entities.put("ns/a", entity("ns", "a", v=0), None)
        seen = await other.entities.get("ns/a")
        assert seen is not None and seen[1] == rev
        results = await asyncio.gather(
            store.entities.put("ns/a", entity("ns", "a", v=1), rev),
            other.entities.put("ns/a", entity("ns", "a", v=2), rev),
            return_exceptions=True,
        )
        assert sorted(type(r).__name__ for r in results) == ["Conflict", "str"]
        winner = next(r for r in results if isinstance(r, str))
        found = await other.entities.get("ns/a")
        assert found is not None and found[1] == winner
        with pytest.raises(Conflict):
            await other.entities.delete("ns/a", rev)
        with pytest.raises(Conflict):
            await other.entities.put("ns/a", entity("ns", "a"), "not-a-revision")
        await other.entities.delete("ns/a", winner)
    finally:
        await other.close()


# -- activation write-behind ----------------------------------------------------------------------
async def test_a_refused_flush_keeps_its_records(
    store: CouchDBStore, couchdb_server: PouchDBServer
) -> None:
    """CouchDB refuses the records (here a validate_doc_update veto, as a full disk or an
    operator's rule would): they stay queued and are retried; reads still answer."""
    db = store.databases["activations"]
    veto = {"validate_doc_update": "function () { throw({forbidden: 'disk full'}); }"}
    with couchdb_server.client() as client:
        veto_rev = client.put(f"/{db}/_design/veto", json=veto).raise_for_status().json()["rev"]
    await store.activations.put(activation("ns", "c" * 32, 1))
    await asyncio.sleep(0.1)  # the background flush is refused at least once
    assert store._activations.pending == 1
    assert await store.activations.list("ns") == []
    with couchdb_server.client() as client:
        client.delete(f"/{db}/_design/veto", params={"rev": veto_rev}).raise_for_status()
    await wait_until_async(
        lambda: store.activations.get("ns", "c" * 32),
        "the refused record written once the veto is gone",
        timeout=10,
    )
    assert store._activations.pending == 0


async def test_a_network_cut_loses_no_record(couchdb_server: PouchDBServer, prefix: str) -> None:
    """CouchDB unreachable: reads fail, records wait in the queue, and are written once the
    network is back; the store's connections recover by themselves."""
    gate = TcpGate(couchdb_server.port)
    await gate.restore()
    store = CouchDBStore(couchdb_server.store_url(prefix, port=gate.port))
    await store.open()
    try:
        await store.activations.put(activation("ns", "1" * 32, 1))
        await store._activations.flush()
        await gate.cut()
        for i in range(2, 5):
            await store.activations.put(activation("ns", f"{i}" * 32, i))
        await asyncio.sleep(0.2)  # the flusher fails, backs off
        assert store._activations.pending == 3
        with pytest.raises(StoreError, match="unreachable"):
            await store.activations.list("ns")
        await gate.restore()
        await wait_until_async(
            lambda: store._activations.pending,
            "the queued records written once the network is back",
            timeout=15,
            until=lambda pending: pending == 0,
        )
        assert await store.activations.count("ns") == 4
    finally:
        await store.close()
        await gate.cut()
    direct = CouchDBStore(couchdb_server.store_url(prefix))
    await direct.open()
    try:
        ids = {d["activationId"] for d in await direct.activations.list("ns")}
        assert ids == {f"{i}" * 32 for i in range(1, 5)}
    finally:
        await direct.close()


async def test_records_put_during_a_flush_are_flushed_too(store: CouchDBStore) -> None:
    """A record queued while a batch is on its way is not left behind when it lands."""
    await store.activations.put(activation("ns", "0" * 32, 0))
    await asyncio.sleep(0.025)  # the first batch is posted now
    await store.activations.put(activation("ns", "1" * 32, 1))
    await wait_until_async(
        lambda: store._activations.pending,
        "both records written",
        timeout=5,
        interval=0.01,
        until=lambda pending: pending == 0,
    )
    assert await store.activations.count("ns") == 2


async def test_a_record_nested_deeper_than_orjson_writes_is_stored(store: CouchDBStore) -> None:
    """orjson writes at most 254 levels; a result nested deeper (an action may return one)
    is written the way it was before the bulk requests had connections of their own."""
    deep: Any = "leaf"
    for _ in range(300):
        deep = [deep]
    doc = activation("ns", "b" * 32, 1)
    doc["response"] = {**doc["response"], "result": {"deep": deep}}
    await store.activations.put(doc)
    await store._activations.flush()
    stored = await store.activations.get("ns", "b" * 32)
    assert stored is not None and stored["response"]["result"]["deep"] == deep


async def test_the_same_record_twice_is_stored_once(store: CouchDBStore) -> None:
    doc = activation("ns", "a" * 32, 1)
    await store.activations.put(doc)
    await store._activations.flush()
    await store.activations.put(doc)  # a retry whose first answer was lost: a 409, stored
    await store._activations.flush()
    assert await store.activations.list("ns") == [doc]


# -- the hot path -------------------------------------------------------------------------------
async def test_hot_path_reads_are_one_request_each(store: CouchDBStore) -> None:
    await store.entities.put("ns/a", entity("ns", "a"), None)
    await store.subjects.put(Identity(namespace="ns", subject="s", uuid="u", key="k"))
    seen = count_requests(store)
    assert await store.entities.get("ns/a") is not None
    assert len(seen) == 1 and seen[0].startswith("GET ") and seen[0].endswith("/ns%2Fa")
    seen.clear()
    assert await store.subjects.by_auth("u", "k") is not None
    assert len(seen) == 1 and "/_view/identities" in seen[0]
    seen.clear()
    assert await store.activations.get("ns", "f" * 32) is None
    assert len(seen) == 1


# -- a server's life: logins, dropped connections ---------------------------------------------------
ADMINS_ONLY = {"admins": {"names": ["admin"], "roles": []}, "members": {"names": ["admin"]}}


async def test_a_refused_session_cookie_logs_in_again(
    store: CouchDBStore, couchdb_server: PouchDBServer
) -> None:
    """The session cookie outlives the secret it was signed with (a restarted in-memory
    server, a rotated secret): the server refuses it, and the store logs in again instead of
    failing reads and writes. The databases admit only the admin here, as CouchDB 3's do by
    default, so a refused cookie is an anonymous request and answered 401 (pouchdb-server
    answers a `_bulk_docs` with 201 and `unauthorized` for every document)."""
    with couchdb_server.client() as client:
        for db in store.databases.values():
            client.put(f"/{db}/_security", json=ADMINS_ONLY).raise_for_status()
    identity = Identity(namespace="ns", subject="s", uuid="u", key="k")
    await store.subjects.put(identity)
    assert store._couch is not None
    jar = store._couch.session.cookies.jar

    stale = "YWRtaW46NjY2NjY2NjY6c2lnbmVkIGJ5IGFub3RoZXIgc2VjcmV0"

    def refuse_the_cookie() -> None:
        (cookie,) = [c for c in jar if c.name == "AuthSession"]
        cookie.value = stale
        # The bulk requests' connections keep a cookie of their own (`couchdb_post`).
        assert store._couch is not None
        store._couch._poster._cookie = f"AuthSession={stale}"

    refuse_the_cookie()
    rev = await store.entities.put("ns/a", entity("ns", "a"), None)
    refuse_the_cookie()
    assert await store.entities.get("ns/a") == (entity("ns", "a"), rev)
    refuse_the_cookie()
    assert await store.subjects.by_auth("u", "k") == identity
    refuse_the_cookie()
    await store.activations.put(activation("ns", "d" * 32, 1))
    await store._activations.flush()
    refuse_the_cookie()
    assert await store.claims.start(["e" * 32], "invoker0", "t") == {"e" * 32}
    refuse_the_cookie()
    claim = await store.claims.get("e" * 32)
    assert claim is not None and claim.started
    with couchdb_server.client() as client:
        assert client.get(f"/{store.databases['activations']}/ns%2F{'d' * 32}").status_code == 200


async def test_a_host_that_never_answers_fails_within_the_connect_deadline(prefix: str) -> None:
    """A host that takes no connection (down, firewalled): the store gives up after its
    5 s connect deadline, whatever couchdb3 would wait (300 s for every GET)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)  # never accepted: once its backlog is full, connects hang
        port = listener.getsockname()[1]
        waiting = [socket.socket() for _ in range(3)]
        for s in waiting:
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
        try:
            store = CouchDBStore(f"couchdb://u:p@127.0.0.1:{port}/{prefix}")
            started = time.monotonic()
            async with asyncio.timeout(30):
                with pytest.raises(StoreError, match="unreachable: ConnectTimeout"):
                    await store.open()
            assert 4 < time.monotonic() - started < 15
        finally:
            for s in waiting:
                s.close()


class Relay:
    """A loopback TCP relay to `target_port` that can lose one answer: `lose_next_answer()`
    makes it close the client's connection when the next response arrives, instead of
    passing it on, as a server closing a kept-alive connection does. The request itself has
    reached the server (a write is applied)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.lost = 0
        self._armed = False
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def lose_next_answer(self) -> None:
        self._armed = True

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)

        async def requests() -> None:
            while data := await reader.read(65536):
                up_writer.write(data)
                await up_writer.drain()

        async def answers() -> None:
            while data := await up_reader.read(65536):
                if self._armed:
                    self._armed = False
                    self.lost += 1
                    return
                writer.write(data)
                await writer.drain()

        try:
            pumps = [asyncio.ensure_future(requests()), asyncio.ensure_future(answers())]
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
            for pump in pumps:
                pump.cancel()
        except (asyncio.CancelledError, OSError):
            pass
        finally:
            for w in (writer, up_writer):
                w.close()
            self._tasks.discard(task)


async def test_a_read_whose_connection_drops_is_sent_again_a_write_is_not(
    couchdb_server: PouchDBServer, prefix: str
) -> None:
    """A kept-alive connection closed under a request: a read is sent again on a new
    connection and answers; a write might have been applied (here it was), so the caller
    is told it failed, and it is not written twice."""
    relay = Relay(couchdb_server.port)
    port = await relay.start()
    store = CouchDBStore(couchdb_server.store_url(prefix, port=port))
    await store.open()
    try:
        rev = await store.entities.put("ns/a", entity("ns", "a"), None)
        relay.lose_next_answer()
        assert await store.entities.get("ns/a") == (entity("ns", "a"), rev)
        relay.lose_next_answer()
        assert await store.entities.list("ns", "action") == [entity("ns", "a")]
        assert await store.claims.start(["c" * 32], "invoker0", "t") == {"c" * 32}
        relay.lose_next_answer()  # a `_bulk_get`, on the bulk requests' own connections
        claim = await store.claims.get("c" * 32)
        assert claim is not None and claim.owner == "invoker0"
        assert relay.lost == 3
        relay.lose_next_answer()
        with pytest.raises(StoreError, match="unreachable"):
            await store.entities.put("ns/b", entity("ns", "b"), None)
        assert relay.lost == 4
        found = await store.entities.get("ns/b")
        assert found is not None and found[1].startswith("1-")  # written once, by that put
    finally:
        await store.close()
        await relay.stop()


# -- subjects in OpenWhisk's shape --------------------------------------------------------------
async def test_subjects_are_stored_as_openwhisk_keeps_them(
    store: CouchDBStore, couchdb_server: PouchDBServer
) -> None:
    first = Identity(namespace="ns1", subject="alice", uuid="u1", key="k1")
    second = Identity(namespace="ns2", subject="alice", uuid="u2", key="k2")
    await asyncio.gather(store.subjects.put(first), store.subjects.put(second))
    await store.subjects.put(
        second.model_copy(update={"limits": NamespaceLimits(firesPerMinute=3)})
    )
    db = store.databases["subjects"]
    with couchdb_server.client() as client:
        alice = client.get(f"/{db}/alice").json()
        limits = client.get(f"/{db}/ns2%2Flimits").json()
        assert client.get(f"/{db}/ns1%2Flimits").status_code == 404
    assert alice["subject"] == "alice"
    assert sorted(alice["namespaces"], key=lambda n: n["name"]) == [
        {"name": "ns1", "uuid": "u1", "key": "k1"},
        {"name": "ns2", "uuid": "u2", "key": "k2"},
    ]
    assert limits["firesPerMinute"] == 3
    # A namespace handed to another subject leaves the first one.
    await store.subjects.put(first.model_copy(update={"subject": "bob"}))
    assert [i.subject for i in await store.subjects.all()] == ["bob", "alice"]
    assert await store.subjects.delete("ns2") is True
    with couchdb_server.client() as client:
        assert client.get(f"/{db}/alice").status_code == 404  # no namespace left
        assert client.get(f"/{db}/ns2%2Flimits").status_code == 404


async def test_blocked_subjects_do_not_authenticate(
    store: CouchDBStore, couchdb_server: PouchDBServer
) -> None:
    await store.subjects.put(Identity(namespace="ns", subject="mallory", uuid="u", key="k"))
    db = store.databases["subjects"]
    with couchdb_server.client() as client:
        doc: dict[str, Any] = client.get(f"/{db}/mallory").json()
        client.put(f"/{db}/mallory", json={**doc, "blocked": True}).raise_for_status()
    assert await store.subjects.by_auth("u", "k") is None


# -- URLs ---------------------------------------------------------------------------------------
def test_url_parts() -> None:
    assert parse_url("couchdb://ad%40min:p%3Ass@db.local/whisk_") == (
        "http://db.local:5984",
        "ad@min",
        "p:ss",
        "whisk_",
    )
    with pytest.raises(ValueError, match="IPv6"):  # couchdb3 would drop the brackets
        parse_url("couchdb://u:p@[::1]:6984")
    with pytest.raises(ValueError, match="prefix"):
        parse_url("couchdb://u:p@h:5984/Bad")


def test_unknown_scheme_names_couchdb() -> None:
    with pytest.raises(ValueError, match="couchdb://"):
        store_from_url("mongo://x")


async def test_wrong_password_is_a_store_error(couchdb_server: PouchDBServer, prefix: str) -> None:
    store = CouchDBStore(couchdb_server.store_url(prefix).replace(":secret@", ":wrong@"))
    started = time.monotonic()
    with pytest.raises(StoreError):
        await store.open()
    assert time.monotonic() - started < 5
