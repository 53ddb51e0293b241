"""Typed calls of the case activities.

Each call goes through the activity definition itself (``CaseActivities.<method>`` or the
``load_rules`` function), so a wrong request or result type is a type error, not a failure
at run time. The activity type names are those of the definitions (``place_hold``, ...),
the same names every recorded history carries.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from services.cases.activities import CaseActivities, load_rules as load_rules_activity
    from shared.contracts.cases import (
        CaseEventRecord,
        DispositionRequest,
        DispositionResult,
        HoldActionRequest,
        HoldResult,
        NoticeRequest,
        NoticeResult,
        PlaceHoldRequest,
        RulesRequest,
        RuleSnapshot,
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
    return await workflow.execute_activity(load_rules_activity, request, start_to_close_timeout=ACTIVITY_TIMEOUT,
                                           retry_policy=RETRY)


async def place_hold(request: PlaceHoldRequest) -> HoldResult:
    return await workflow.execute_activity_method(CaseActivities.place_hold, request,
                                                  start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=RETRY)


async def hold_action(request: HoldActionRequest) -> HoldResult:
    return await workflow.execute_activity_method(CaseActivities.hold_action, request,
                                                  start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=RETRY)


async def send_notice(request: NoticeRequest) -> NoticeResult:
    return await workflow.execute_activity_method(CaseActivities.send_notice, request,
                                                  start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=RETRY)


async def record_disposition(request: DispositionRequest) -> DispositionResult:
    return await workflow.execute_activity_method(CaseActivities.record_disposition, request,
                                                  start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=RETRY)


async def hold_guarantee(request: HoldGuaranteeRequest) -> HoldGuaranteeResult:
    return await workflow.execute_activity_method(CaseActivities.hold_guarantee, request,
                                                  start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=RETRY)


async def settle_guarantee(request: SettleGuaranteeRequest) -> SettleGuaranteeResult:
    return await workflow.execute_activity_method(CaseActivities.settle_guarantee, request,
                                                  start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=RETRY)


async def record_case_events(records: list[CaseEventRecord]) -> None:
    await workflow.execute_activity_method(CaseActivities.record_case_events, records,
                                           start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=RETRY)
