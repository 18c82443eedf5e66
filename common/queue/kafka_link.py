"""One TCP connection to a Kafka broker that carries pywhisk's own Produce and Fetch requests.

A Kafka broker answers a connection's requests in the order they came, so the link keeps
the futures of the requests in flight in a queue and gives each answer to the oldest one,
checking its correlation id. It is an `asyncio.Protocol`: an answer is read where it
arrives, with no reader task and no stream layers between the socket and the future.

A lost connection fails every request in flight with `KafkaConnectionError` (an aiokafka
error, so `KafkaQueue`'s retries treat it as they treat aiokafka's); the owner makes a new
link for the next request. An answer that does not fit (another correlation id, a short
frame) closes the link the same way: nothing after it could be trusted.
"""

from __future__ import annotations

import asyncio
import struct
from collections import deque
from typing import cast

from aiokafka.client import AIOKafkaClient
from aiokafka.errors import KafkaConnectionError

from pywhisk.common.queue.kafka_wire import frame

_SIZE = struct.Struct(">i")
_SIZE_AND_ID = struct.Struct(">ii")


class KafkaLink(asyncio.Protocol):
    def __init__(self, address: str) -> None:
        self.address = address
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._waiting: deque[tuple[int, asyncio.Future[memoryview]]] = deque()
        self._correlation = 0
        self._lost: BaseException | None = None

    @classmethod
    async def open(cls, host: str, port: int, within: float) -> KafkaLink:
        loop = asyncio.get_running_loop()
        link = cls(f"{host}:{port}")
        try:
            async with asyncio.timeout(within):
                await loop.create_connection(lambda: link, host, port)
        except (OSError, TimeoutError) as exc:
            raise KafkaConnectionError(f"connecting to {host}:{port}: {exc!r}") from exc
        return link

    @property
    def usable(self) -> bool:
        return self._transport is not None and self._lost is None

    @property
    def in_flight(self) -> int:
        return len(self._waiting)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport (uvloop's are not asyncio.Transport's subclasses).
        self._transport = cast(asyncio.Transport, transport)

    def request(self, api_key: int, version: int, body: bytes) -> asyncio.Future[memoryview]:
        """Send a request; the future gets the answer's body (after its correlation id)."""
        future: asyncio.Future[memoryview] = asyncio.get_running_loop().create_future()
        if self._transport is None or self._lost is not None:
            future.set_exception(self._gone())
            return future
        self._correlation = correlation = (self._correlation + 1) & 0x7FFFFFFF
        self._waiting.append((correlation, future))
        self._transport.write(frame(api_key, version, correlation, body))
        return future

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        if not buffer and len(data) >= 8:  # the usual case: one whole answer in one read
            size, correlation = _SIZE_AND_ID.unpack_from(data)
            if len(data) == size + 4:
                self._answer(correlation, memoryview(data)[8:])
                return
        buffer += data
        while len(buffer) >= 8:
            size, correlation = _SIZE_AND_ID.unpack_from(buffer)
            if len(buffer) < size + 4:
                return
            answer = bytes(buffer[8 : size + 4])
            del buffer[: size + 4]
            self._answer(correlation, memoryview(answer))
            if self._lost is not None:
                return

    def _answer(self, correlation: int, body: memoryview) -> None:
        if not self._waiting:
            self._fail(KafkaConnectionError(f"{self.address} answered a request never sent"))
            return
        expected, future = self._waiting.popleft()
        if expected != correlation:
            self._fail(
                KafkaConnectionError(
                    f"{self.address} answered request {correlation}, expected {expected}"
                )
            )
            if not future.done():
                future.set_exception(self._gone())
            return
        if not future.done():  # its caller may have given up (cancelled) meanwhile
            future.set_result(body)

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(KafkaConnectionError(f"connection to {self.address} lost: {exc!r}"))

    def _gone(self) -> BaseException:
        return self._lost or KafkaConnectionError(f"no connection to {self.address}")

    def _fail(self, exc: BaseException) -> None:
        if self._lost is None:
            self._lost = exc
        while self._waiting:
            _, future = self._waiting.popleft()
            if not future.done():
                future.set_exception(self._gone())
        if self._transport is not None:
            self._transport.close()

    def close(self) -> None:
        self._fail(KafkaConnectionError(f"connection to {self.address} closed"))


async def kept_or_opened(
    client: AIOKafkaClient, links: dict[int, KafkaLink], node: int, within: float
) -> KafkaLink:
    """The usable link in `links` to broker `node`, or a new one (which the caller keeps)."""
    link = links.get(node)
    if link is not None and link.usable:
        return link
    broker = client.cluster.broker_metadata(node)
    if broker is None:  # gone from the cluster: who leads now is asked again
        client.force_metadata_update()
        raise KafkaConnectionError(f"broker {node} is not in the cluster's metadata")
    return await KafkaLink.open(broker.host, broker.port, within)
