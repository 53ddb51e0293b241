"""Kafka consumer of the risk service: every declaration on customs.declarations.v1 is assessed once.

Unusable records are left to intake, which dead-letters them with the reason; here they
are counted and skipped so they can never be assessed.
"""

from __future__ import annotations

import logging

from aiokafka import ConsumerRecord
from prometheus_client import Counter
from pydantic import ValidationError

from services.risk.service import AssessmentPipeline
from shared.contracts.declaration import DeclarationV1

log = logging.getLogger(__name__)
SKIPPED = Counter("ipr_risk_skipped_records_total", "Records on the declarations topic that are not valid declarations")


def declarations_handler(pipeline: AssessmentPipeline):  # noqa: ANN201
    async def handle(record: ConsumerRecord) -> None:
        try:
            declaration = DeclarationV1.model_validate_json(record.value or b"")
        except ValidationError:
            SKIPPED.inc()
            log.info("skipping invalid declaration record at %s/%s (intake dead-letters it)",
                     record.partition, record.offset)
            return
        await pipeline.handle(declaration)

    return handle
