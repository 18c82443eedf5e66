"""The Kafka consumer's idle check for a lost broker log, with a fake aiokafka reader whose
high watermarks (the log's end in each fetch's answer) are given in turn: a log end seen
once short of our position (tansu reported one, and going back replayed a
whole topic) is looked at again before the consumer goes back; a short end seen twice is a
lost log."""

from __future__ import annotations

from aiokafka import TopicPartition

from pywhisk.common.queue.kafka import KafkaConsumer

TP = TopicPartition("invoker0", 0)


class FakeReader:
    def __init__(self, position: int, committed: int | None) -> None:
        self.ends: list[int] = []  # what each highwater call answers, in turn
        self.position_ = position
        self.committed_ = committed
        self.seeks: list[int] = []

    def assignment(self) -> set[TopicPartition]:
        return {TP}

    def highwater(self, tp: TopicPartition) -> int:
        return self.ends.pop(0)

    async def position(self, tp: TopicPartition) -> int:
        return self.position_

    async def committed(self, tp: TopicPartition) -> int | None:
        return self.committed_

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.seeks.append(offset)
        self.position_ = offset


async def test_a_log_end_short_once_is_not_a_lost_log() -> None:
    reader = FakeReader(position=180, committed=170)
    consumer = KafkaConsumer(None, reader, "invoker0")  # type: ignore[arg-type]
    reader.ends = [179, 180, 179, 181]
    for _ in range(4):
        await consumer._realign()
    assert reader.seeks == []


async def test_a_log_end_short_twice_in_a_row_is_a_lost_log() -> None:
    reader = FakeReader(position=180, committed=170)
    consumer = KafkaConsumer(None, reader, "invoker0")  # type: ignore[arg-type]
    reader.ends = [179, 179]
    await consumer._realign()
    assert reader.seeks == []
    await consumer._realign()
    assert reader.seeks == [170]  # the group's committed offset, which the log still has

    restarted = FakeReader(position=180, committed=170)  # a broker that kept nothing
    consumer = KafkaConsumer(None, restarted, "invoker0")  # type: ignore[arg-type]
    restarted.ends = [0, 0]
    await consumer._realign()
    await consumer._realign()
    assert restarted.seeks == [0]
