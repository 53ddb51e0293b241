"""Types of the part of aiokafka (0.14, which ships none) that the platform subclasses: the producer
(``shared.kafka.CloudEventsProducer``). Everything else in aiokafka stays untyped (``Any``)."""

import asyncio
from typing import Any

from aiokafka.structs import RecordMetadata

class AIOKafkaProducer:
    client: Any  # AIOKafkaClient
    def __init__(self, **configs: Any) -> None: ...
    async def start(self) -> None: ...
    async def flush(self) -> None: ...
    async def stop(self) -> None: ...
    async def partitions_for(self, topic: str) -> set[int]: ...
    async def send(
        self,
        topic: str,
        value: Any = None,
        key: Any = None,
        partition: int | None = None,
        timestamp_ms: int | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> asyncio.Future[RecordMetadata]: ...
    async def send_and_wait(
        self,
        topic: str,
        value: Any = None,
        key: Any = None,
        partition: int | None = None,
        timestamp_ms: int | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> RecordMetadata: ...
    def __getattr__(self, name: str) -> Any: ...

def __getattr__(name: str) -> Any: ...
