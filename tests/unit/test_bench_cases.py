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
    plain = [
        "workflow_execution_started",
        "workflow_task_scheduled",
        "workflow_task_started",
        "workflow_task_completed",
        "timer_started",
    ]
    timed_out = [
        "workflow_execution_started",
        "workflow_task_scheduled",
        "workflow_task_started",
        "workflow_task_timed_out",
        "workflow_task_scheduled",
        "workflow_task_started",
        "workflow_task_completed",
        "timer_started",
    ]
    sticky_timed_out = [
        "workflow_execution_started",
        "workflow_task_scheduled",
        "workflow_task_timed_out",
        "workflow_task_scheduled",
        "workflow_task_started",
        "workflow_task_completed",
        "timer_started",
    ]
    assert _without_retried_tasks(timed_out) == plain
    assert _without_retried_tasks(sticky_timed_out) == plain
    assert _without_retried_tasks(plain + ["activity_task_scheduled"]) != plain


def test_the_same_shaped_baseline_asks_for_as_many_version_markers_as_a_case() -> None:
    """The no-op baseline of ``make bench-cases`` records a marker for each ``workflow.patched`` a case starts
    with, or the two histories differ in shape (a new workflow patch needs a marker there too)."""
    import ast
    import inspect

    from bench.case_baselines import CaseShape
    from services.cases.workflow.definition import CaseWorkflow

    def patched_calls(fn) -> int:
        tree = ast.parse(inspect.getsource(fn).strip().replace("\n    ", "\n"))
        return sum(
            1
            for n in ast.walk(tree)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "patched"
        )

    case = patched_calls(CaseWorkflow.__init__)
    shape = CaseShape.__init__
    tree = ast.parse(inspect.getsource(shape).strip().replace("\n    ", "\n"))
    markers = next(n for n in ast.walk(tree) if isinstance(n, ast.Tuple))
    assert case >= 6 and len(markers.elts) == case, (case, len(markers.elts))
