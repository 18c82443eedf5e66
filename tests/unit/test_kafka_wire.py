"""Our Produce v3 and Fetch v4 bytes against aiokafka's schema classes for the same versions
(the ones Kafka's protocol guide gives): what we write is byte for byte what aiokafka would
write, and what a broker answers in aiokafka's shape reads back the same. The record
batches are aiokafka's own builder's, read back by its reader."""

from __future__ import annotations

import struct

import pytest
from aiokafka.protocol.fetch import FetchRequest_v4, FetchResponse_v4
from aiokafka.protocol.produce import ProduceRequest_v3, ProduceResponse_v3
from aiokafka.record.memory_records import MemoryRecords

from pywhisk.common.queue.kafka_wire import (
    Fetched,
    WireError,
    Written,
    fetch_answer,
    fetch_body,
    frame,
    produce_answer,
    produce_body,
    record_batch,
    records_from,
)


def _at(batch: bytes, base_offset: int) -> bytes:
    """`batch` as a broker keeps it: given its place on the log (the base offset is outside
    the batch's CRC, which the broker sets the same way)."""
    return struct.pack(">q", base_offset) + batch[8:]


def test_a_produce_request_is_aiokafkas_v3() -> None:
    one, _ = record_batch([b"a", b"b"], 1 << 20)
    two, _ = record_batch([b"c"], 1 << 20)
    ours = produce_body(-1, 30_000, {"invoker0": one, "completed0": two})
    theirs = ProduceRequest_v3(
        None, -1, 30_000, [("invoker0", [(0, one)]), ("completed0", [(0, two)])]
    ).encode()
    assert ours == theirs


def test_a_request_frame_carries_size_header_and_body() -> None:
    data = frame(1, 4, 77, b"body")
    size, key, version, correlation, client = struct.unpack_from(">ihhih", data)
    assert (key, version, correlation) == (1, 4, 77)
    assert size == len(data) - 4
    assert data[14 : 14 + client] == b"pywhisk" and data.endswith(b"body")


def test_a_produce_answer_says_what_each_topic_got() -> None:
    answer = ProduceResponse_v3(
        [("invoker0", [(0, 0, 41, -1)]), ("completed0", [(0, 10, -1, -1)])], 0
    ).encode()
    assert produce_answer(answer) == [
        Written("invoker0", 0, 41),
        Written("completed0", 10, -1),  # MESSAGE_TOO_LARGE
    ]


def test_a_fetch_request_is_aiokafkas_v4() -> None:
    ours = fetch_body(500, 50 << 20, "invoker0", [(0, 12)], 1 << 20)
    theirs = FetchRequest_v4(-1, 500, 1, 50 << 20, 0, [("invoker0", [(0, 12, 1 << 20)])]).encode()
    assert ours == theirs


def test_a_fetch_answer_gives_the_records_from_the_position_on() -> None:
    first, _ = record_batch([b"m0", b"m1", b"m2"], 1 << 20)
    second, _ = record_batch([b"m3", b"m4"], 1 << 20)
    cut = _at(second, 5)[:-3]  # the broker stops at its byte limit, mid-batch
    log = _at(first, 0) + _at(second, 3) + cut
    answer = FetchResponse_v4(0, [("invoker0", [(0, 0, 7, 7, [], log)])]).encode()
    [fetched] = fetch_answer(answer)
    assert (fetched.partition, fetched.error, fetched.high_watermark) == (0, 0, 7)
    assert fetched.records is not None
    records, after = records_from(fetched.records, position=1)  # m0 was taken before
    assert [(r.offset, r.value) for r in records] == [
        (1, b"m1"),
        (2, b"m2"),
        (3, b"m3"),
        (4, b"m4"),
    ]
    assert after == 5  # the cut batch is fetched again from its start


def test_a_fetch_answer_with_an_error_and_no_records() -> None:
    answer = FetchResponse_v4(0, [("invoker0", [(0, 1, -1, -1, [(5, 6)], None)])]).encode()
    assert fetch_answer(answer) == [Fetched(0, 1, -1, None)]  # OFFSET_OUT_OF_RANGE


def test_a_short_answer_is_refused() -> None:
    answer = FetchResponse_v4(0, [("invoker0", [(0, 0, 3, 3, [], b"x" * 100)])]).encode()
    with pytest.raises(WireError):
        fetch_answer(answer[:-10])


def test_a_batch_holds_what_fits_and_always_one() -> None:
    values = [b"x" * 400 for _ in range(10)]
    batch, taken = record_batch(values, 1000)
    assert taken == 2
    assert [r.value for r in MemoryRecords(batch).next_batch()] == values[:2]
    big, taken = record_batch([b"y" * 5000, b"z"], 1000)
    assert taken == 1 and len(big) > 5000
