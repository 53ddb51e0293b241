"""Typed calls of the case activities.

Each call goes through the activity definition itself (``CaseActivities.<method>`` or the
``load_rules`` function), so a wrong request or result type is a type error, not a failure
at run time. The activity type names are those of the definitions (``place_hold``, ...),
the same names every recorded history carries.

The calls of the step services return the activity's handle (awaitable like the result), so
``steps.run_step`` can watch a step that keeps failing. A step service's 4xx is raised by the
activity as a non-retryable ``ServiceRejected``; everything else is retried without limit.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.types import MethodAsyncSingleParam
from temporalio.workflow import ActivityHandle

with workflow.unsafe.imports_passed_through():
    from services.cases.activities import CaseActivities
    from services.cases.activities import load_rules as load_rules_activity
    from shared.contracts.cases import (
        CaseEventRecord,
        DispositionRequest,
        DispositionResult,
        HoldActionRequest,
        HoldResult,
        NoticeRequest,
        NoticeResult,
        NoticeStatusRequest,
        PlaceHoldRequest,
        RuleSnapshot,
        RulesRequest,
    )
    from shared.contracts.guarantees import (
        HoldGuaranteeRequest,
        HoldGuaranteeResult,
        SettleGuaranteeRequest,
        SettleGuaranteeResult,
    )

ACTIVITY_TIMEOUT = timedelta(seconds=30)
RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    non_retryable_error_types=["ServiceRejected"],
)


async def load_rules(request: RulesRequest) -> RuleSnapshot:
    return await workflow.execute_activity(
        load_rules_activity, request, start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=RETRY
    )


RequestT = TypeVar("RequestT")
ResultT = TypeVar("ResultT")


def _start(
    method: MethodAsyncSingleParam[CaseActivities, RequestT, ResultT], request: RequestT
) -> ActivityHandle[ResultT]:
    return workflow.start_activity_method(method, request, start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=RETRY)


def place_hold(request: PlaceHoldRequest) -> ActivityHandle[HoldResult]:
    return _start(CaseActivities.place_hold, request)


def hold_action(request: HoldActionRequest) -> ActivityHandle[HoldResult]:
    return _start(CaseActivities.hold_action, request)


def send_notice(request: NoticeRequest) -> ActivityHandle[NoticeResult]:
    return _start(CaseActivities.send_notice, request)


def notice_status(request: NoticeStatusRequest) -> ActivityHandle[NoticeResult]:
    return _start(CaseActivities.notice_status, request)


def record_disposition(request: DispositionRequest) -> ActivityHandle[DispositionResult]:
    return _start(CaseActivities.record_disposition, request)


def hold_guarantee(request: HoldGuaranteeRequest) -> ActivityHandle[HoldGuaranteeResult]:
    return _start(CaseActivities.hold_guarantee, request)


def settle_guarantee(request: SettleGuaranteeRequest) -> ActivityHandle[SettleGuaranteeResult]:
    return _start(CaseActivities.settle_guarantee, request)


async def record_case_events(records: list[CaseEventRecord]) -> None:
    await workflow.execute_activity_method(
        CaseActivities.record_case_events, records, start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=RETRY
    )
