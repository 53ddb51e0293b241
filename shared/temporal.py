"""Temporal client helpers: one converter (pydantic) for every process that talks to the case workflow."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter


async def connect(address: str, namespace: str) -> Client:
    return await Client.connect(address, namespace=namespace, data_converter=pydantic_data_converter)


class LazyClient:
    """Connects on first use and reconnects after a failure, so a service starts before Temporal does."""

    def __init__(self, address: str, namespace: str) -> None:
        self.address = address
        self.namespace = namespace
        self._client: Client | None = None

    async def get(self) -> Client:
        if self._client is None:
            self._client = await connect(self.address, self.namespace)
        return self._client

    async def check(self) -> None:
        client = await self.get()
        await client.workflow_service.get_system_info(
            __import__("temporalio.api.workflowservice.v1", fromlist=["GetSystemInfoRequest"]).GetSystemInfoRequest()
        )
