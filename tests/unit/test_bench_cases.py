"""Pure parts of the case benchmark: reading worker metrics and comparing history shapes."""

from __future__ import annotations

from bench.cases import _without_retried_tasks, metric


def test_metric_sums_the_series_with_the_wanted_labels() -> None:
    values = {
        'temporal_activity_execution_latency_count{activity_type="send_notice",task_queue="q"}': 3.0,
        'temporal_activity_execution_latency_count{activity_type="record_case_events",task_queue="q"}': 5.0,
        'temporal_activity_execution_latency_sum{activity_type="record_case_events",task_queue="q"}': 99.0,
    }
    assert metric(values, "temporal_activity_execution_latency_count", activity_type="record_case_events") == 5.0
    assert metric(values, "temporal_activity_execution_latency_count") == 8.0
    assert metric(values, "temporal_workflow_completed") == 0.0


def test_a_retried_workflow_task_is_not_another_shape() -> None:
    plain = ["workflow_execution_started", "workflow_task_scheduled", "workflow_task_started",
             "workflow_task_completed", "timer_started"]
    timed_out = ["workflow_execution_started", "workflow_task_scheduled", "workflow_task_started",
                 "workflow_task_timed_out", "workflow_task_scheduled", "workflow_task_started",
                 "workflow_task_completed", "timer_started"]
    sticky_timed_out = ["workflow_execution_started", "workflow_task_scheduled", "workflow_task_timed_out",
                        "workflow_task_scheduled", "workflow_task_started", "workflow_task_completed", "timer_started"]
    assert _without_retried_tasks(timed_out) == plain
    assert _without_retried_tasks(sticky_timed_out) == plain
    assert _without_retried_tasks(plain + ["activity_task_scheduled"]) != plain
