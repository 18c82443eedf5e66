"""The two Kafka requests an activation's way makes, Produce and Fetch, as bytes.

Every activation costs its controller a Produce (the activation) and a Fetch (its
completion), and its invoker a Fetch and a Produce; aiokafka builds each request from a
tree of Python schema objects and reads each answer back into another, and spends as much
again in its sender and fetcher tasks around them. Here each request is one `struct` pack
and each answer one pass over its bytes. The record batches inside are aiokafka's own
(`DefaultRecordBatchBuilder` to write one, `MemoryRecords` to read them; both C), so the
format on the log is the one aiokafka writes and reads.

Versions: Produce v3 and Fetch v4, the oldest that carry record batches of magic 2 and the
oldest Apache Kafka 4 still serves (KIP-896); tansu answers them too. Neither is a
"flexible" version, so the headers are the plain ones (request header v1, response
header v0). Everything else (metadata, topics, offsets, group commits) stays with aiokafka.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from aiokafka.record.default_records import DefaultRecordBatchBuilder
from aiokafka.record.memory_records import MemoryRecords

PRODUCE, FETCH = 0, 1
PRODUCE_VERSION, FETCH_VERSION = 3, 4
CLIENT_ID = b"pywhisk"

_HEADER = struct.Struct(">ihhih")  # size, api key, version, correlation id, client id length
_I16 = struct.Struct(">h")
_I32 = struct.Struct(">i")
_PARTITION_HEAD = struct.Struct(">ihq")  # partition, error code, high watermark / base offset
_PRODUCE_HEAD = struct.Struct(">hhi")  # transactional id (null), acks, timeout ms
_FETCH_HEAD = struct.Struct(">iiiib")  # replica, max wait, min bytes, max bytes, isolation
_FETCH_PARTITION = struct.Struct(">iqi")  # partition, offset, max bytes


class WireError(ValueError):
    """An answer that does not parse as the request's answer: the connection is not to be
    trusted further."""


def frame(api_key: int, version: int, correlation: int, body: bytes) -> bytes:
    """A request as it goes on the socket: size, header v1, body."""
    size = _HEADER.size - 4 + len(CLIENT_ID) + len(body)
    return _HEADER.pack(size, api_key, version, correlation, len(CLIENT_ID)) + CLIENT_ID + body


def _string(text: str) -> bytes:
    raw = text.encode()
    return _I16.pack(len(raw)) + raw


def record_batch(values: Sequence[bytes], limit: int) -> tuple[bytes, int]:
    """The first of `values` as one record batch (no key, no headers, no compression) of
    at most about `limit` bytes, and how many it took: at least one, however large (the
    broker refuses what is over its own limit, and says so)."""
    builder = DefaultRecordBatchBuilder(2, 0, 0, -1, -1, -1, limit)
    now = int(time.time() * 1000)
    taken = 0
    for value in values:
        if builder.append(taken, now, None, value, []) is None:
            break
        taken += 1
    return bytes(builder.build()), taken


def produce_body(acks: int, timeout_ms: int, batches: dict[str, bytes]) -> bytes:
    """Produce v3: one record batch (`record_batch`) per topic, to partition 0 of each (our
    topics have one; `KafkaQueue` makes them so). Kafka takes one batch per partition and
    request from v3 on."""
    parts = [_PRODUCE_HEAD.pack(-1, acks, timeout_ms), _I32.pack(len(batches))]
    for topic, batch in batches.items():
        parts += (_string(topic), _I32.pack(1), _I32.pack(0), _I32.pack(len(batch)), batch)
    return b"".join(parts)


@dataclass(frozen=True, slots=True)
class Written:
    topic: str
    error: int  # Kafka's error code, 0 when written
    offset: int  # the batch's first offset on the log


class _Reader:
    """A cursor over an answer's bytes; a short or malformed answer raises WireError."""

    __slots__ = ("at", "data")

    def __init__(self, data: bytes | memoryview) -> None:
        self.data = data
        self.at = 0

    def unpack(self, shape: struct.Struct) -> tuple[int, ...]:
        try:
            got = shape.unpack_from(self.data, self.at)
        except struct.error as exc:
            raise WireError(f"answer ends at byte {self.at}") from exc
        self.at += shape.size
        return got  # type: ignore[no-any-return]

    def int32(self) -> int:
        return self.unpack(_I32)[0]

    def string(self) -> str:
        size = self.unpack(_I16)[0]
        raw = bytes(self.data[self.at : self.at + size])
        self.at += size
        return raw.decode()

    def blob(self) -> bytes | None:
        size = self.int32()
        if size < 0:
            return None
        if self.at + size > len(self.data):
            raise WireError(f"a {size}-byte field runs past the answer's end")
        raw = bytes(self.data[self.at : self.at + size])
        self.at += size
        return raw


_LOG_APPEND_TIME = struct.Struct(">q")


def produce_answer(data: bytes | memoryview) -> list[Written]:
    """Produce v3's answer, after the correlation id: what each topic's partition says."""
    reader = _Reader(data)
    written: list[Written] = []
    for _ in range(reader.int32()):
        topic = reader.string()
        for _ in range(reader.int32()):
            _, error, offset = reader.unpack(_PARTITION_HEAD)
            reader.unpack(_LOG_APPEND_TIME)
            written.append(Written(topic, error, offset))
    return written


def fetch_body(
    wait_ms: int, max_bytes: int, topic: str, partitions: Iterable[tuple[int, int]], part_max: int
) -> bytes:
    """Fetch v4 of one topic's `partitions` ((partition, offset) pairs), answered once a
    message is there or `wait_ms` has passed; read-uncommitted (no transactions here)."""
    pairs = list(partitions)
    parts = [_FETCH_HEAD.pack(-1, wait_ms, 1, max_bytes, 0), _I32.pack(1), _string(topic)]
    parts.append(_I32.pack(len(pairs)))
    parts += (_FETCH_PARTITION.pack(p, offset, part_max) for p, offset in pairs)
    return b"".join(parts)


@dataclass(frozen=True, slots=True)
class Fetched:
    partition: int
    error: int  # Kafka's error code, 0 when the records are good
    high_watermark: int  # the log's end as the broker sees it
    records: bytes | None


_FETCH_TAIL = struct.Struct(">q")  # last stable offset
_ABORTED = struct.Struct(">qq")


def fetch_answer(data: bytes | memoryview) -> list[Fetched]:
    """Fetch v4's answer, after the correlation id: each partition of each topic asked."""
    reader = _Reader(data)
    reader.int32()  # throttle time
    fetched: list[Fetched] = []
    for _ in range(reader.int32()):
        reader.string()  # one topic per request: the one asked
        for _ in range(reader.int32()):
            partition, error, high = reader.unpack(_PARTITION_HEAD)
            reader.unpack(_FETCH_TAIL)
            aborted = reader.int32()
            for _ in range(max(aborted, 0)):
                reader.unpack(_ABORTED)
            fetched.append(Fetched(partition, error, high, reader.blob()))
    return fetched


class Record:
    """One message as a consumer hands it on: where it is on the log, and its bytes."""

    __slots__ = ("offset", "value")

    def __init__(self, offset: int, value: bytes) -> None:
        self.offset = offset
        self.value = value


def records_from(data: bytes, position: int) -> tuple[list[Record], int]:
    """The messages at or after `position` in a fetch's record batches, and the position
    after the last whole batch (a broker answers with whole batches, which may start
    before `position`, and may cut the last one short). Control batches (transactions'
    markers) are stepped over."""
    records = MemoryRecords(data)
    got: list[Record] = []
    while True:
        batch = records.next_batch()
        if batch is None:
            break
        if not batch.is_control_batch:
            for record in batch:
                offset = record.offset
                if offset >= position and record.value is not None:
                    got.append(Record(offset, record.value))
        position = max(position, batch.next_offset)
    return got, position
