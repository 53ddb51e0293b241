"""Prometheus metrics of the risk service: lines assessed, cases started, hits, stage and batch times."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

LINES = Counter("ipr_risk_lines_assessed_total", "Declaration lines assessed", ["lane", "suspected"])


CASES = Counter(
    "ipr_risk_cases_started_total", "Cases opened or given a revision's lines (one per declaration and rights holder)"
)


PROFILE_HITS = Counter("ipr_risk_profile_hits_total", "Lines matched by a targeting profile", ["profile_id"])


CAMPAIGN_HITS = Counter("ipr_risk_campaign_hits_total", "Lines hit by a targeting campaign", ["campaign_id"])


RED_QUOTA_LINES = Counter(
    "ipr_risk_red_quota_lines_total",
    "Red lines drawn on offices' daily red quotas, granted or refused (refused ones go to documentary check)",
    ["outcome"],
)


PARCELS_ASSESSED = Counter("ipr_risk_parcels_assessed_total", "Parcels of manifests assessed", ["lane", "suspected"])


CAMPAIGNS_LOADED = Gauge("ipr_risk_campaigns_switched_on", "Targeting campaigns switched on")


ASSESS_SECONDS = Histogram(
    "ipr_risk_assess_seconds",
    "Time to assess one declaration",
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25),
)


STAGE_SECONDS = Histogram(
    "ipr_risk_stage_seconds",
    "Time of each consumer stage per batch (queue = waiting for it)",
    ["stage"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1),
)


BATCH_SECONDS = Histogram(
    "ipr_risk_batch_seconds",
    "Time to assess, store and publish one consumer batch",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)


REGISTRY_SIZE = Gauge("ipr_risk_registry_active_recordations", "Active recordations in the matcher index")


REGISTRY_UPDATE_SECONDS = Histogram(
    "ipr_risk_registry_update_seconds",
    "Time to take registry changes into the matcher index: incremental (the changed recordations) or full (a rebuild)",
    ["kind"],
    buckets=(0.001, 0.005, 0.02, 0.1, 0.5, 2, 10, 60, 300),
)


PROFILES_LOADED = Gauge("ipr_risk_profiles_loaded", "Targeting profiles in force")
