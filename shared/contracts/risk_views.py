"""What the risk service answers at its HTTP edge, beside the recordations (``shared.contracts.recordation``):
targeting profiles and campaigns with their hits and history, a side-effect-free assessment, red capacity and
quotas, a trader's history, and learning (labels, line features, the model registry and its decisions)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.bounds import (
    CampaignId,
    CaseId,
    Count,
    Day,
    DeclarationId,
    LineNo,
    ProfileId,
    Revision,
    Timestamp,
    TraderId,
    Version,
)
from shared.contracts.declaration import Jurisdiction, SupervisionMode
from shared.contracts.events import ContributionV1, RiskHitV1

# Text a request echoes whose contract sets no length of its own: no longer than a request body (1 MiB by
# default); the bound leaves room for a larger configured body limit.
_ECHOED = 16 * 1024 * 1024
EchoedText = Annotated[str, Field(max_length=_ECHOED)]
# Totals over days and offices (hits, lines): stored as 64-bit counters, answered up to a trillion.
Tally = Annotated[int, Field(ge=0, le=10**12)]
ModelVersionName = Annotated[str, Field(pattern=r"^m-[0-9]{4,9}$", max_length=32)]
Actor = Annotated[str, Field(max_length=256)]
OfficeCode = Annotated[str, Field(max_length=16)]


# ---------------------------------------------------------------- targeting profiles


class ConditionView(BaseModel):
    field: str = Field(max_length=64, description="a declaration or line field, e.g. line.hs_code")
    op: str = Field(max_length=32, description="eq, ne, in, not_in, prefix, contains, lt, ...")
    value: (
        EchoedText
        | Annotated[int, Field(ge=-(10**12), le=10**12)]
        | Annotated[float, Field(ge=-1e12, le=1e12)]
        | list[EchoedText]
        | None
    ) = Field(description="none for present, absent, empty, not_empty")


class ProfileView(BaseModel):
    """A targeting profile in force (or deactivated), with its hit count."""

    profile_id: ProfileId
    name: str = Field(max_length=200)
    description: str | None = Field(max_length=2000)
    owner: str = Field(max_length=128)
    jurisdiction: Jurisdiction
    customs_offices: list[EchoedText] = Field(max_length=200, description="empty: every office")
    weight: float = Field(ge=-1, le=1)
    valid_from: Day
    valid_until: Day
    active: bool
    conditions: list[ConditionView] = Field(max_length=20)
    version: Version
    hits: Tally = Field(description="lines the profile matched")
    last_hit_at: Timestamp | None
    updated_at: Timestamp | None


class ProfilesImported(BaseModel):
    stored: Count
    created: Count = Field(description="of those stored, how many were new")
    profiles: list[ProfileId] = Field(max_length=_ECHOED // 16)


# ---------------------------------------------------------------- campaigns


class SectorView(BaseModel):
    name: str = Field(max_length=100)
    hs_prefixes: list[Annotated[str, Field(max_length=6)]] = Field(max_length=100)


class CampaignView(BaseModel):
    """A targeting campaign, switched on or off."""

    campaign_id: CampaignId
    name: str = Field(max_length=200)
    description: str | None = Field(max_length=2000)
    owner: str = Field(max_length=128)
    jurisdiction: Jurisdiction
    valid_from: Day
    valid_until: Day
    customs_offices: list[EchoedText] = Field(max_length=500, description="empty: every office")
    directions: list[Literal["import", "export", "transit"]] = Field(max_length=_ECHOED // 8)
    supervision_modes: list[SupervisionMode] = Field(max_length=_ECHOED // 8)
    transport_modes: list[Literal["sea", "air", "road", "rail", "post", "express", "other"]] = Field(
        max_length=_ECHOED // 8
    )
    sectors: list[SectorView] = Field(max_length=50)
    weight: float = Field(gt=0, le=1)
    active: bool
    version: Version
    updated_at: Timestamp | None


class CampaignTotals(BaseModel):
    consignments: Tally
    lines: Tally
    suspected_lines: Tally
    cases_opened: Tally


class CampaignChange(BaseModel):
    """One version of a campaign: created, updated, switched on or off; who did it, when and why."""

    version: Version
    event: str = Field(max_length=32)
    actor: Actor
    reason: str | None = Field(max_length=2000)
    at: Timestamp


class CampaignWithHistory(CampaignView):
    totals: CampaignTotals = Field(description="everything the campaign hit, every office, every month")
    history: list[CampaignChange] = Field(max_length=100_000)


class CampaignReportRow(CampaignTotals):
    customs_office: OfficeCode
    period: Day = Field(description="first day of the day, week or month")


class CampaignReport(BaseModel):
    """What a campaign hit, by office and period (the consignment's date), with totals."""

    model_config = ConfigDict(populate_by_name=True)

    campaign_id: CampaignId
    name: str = Field(max_length=200)
    active: bool
    valid_from: Day
    valid_until: Day
    period: Literal["day", "week", "month"]
    from_: Day | None = Field(alias="from")
    to: Day | None
    office: OfficeCode | None
    totals: CampaignTotals
    by_office: dict[str, CampaignTotals] = Field(max_length=100_000)
    rows: list[CampaignReportRow] = Field(max_length=10_000_000)


# ---------------------------------------------------------------- assessment


class AssessedLine(BaseModel):
    """One line's assessment, as on ``risk.assessments.v1`` (without a case: assessing opens none)."""

    line_no: LineNo
    suspected: bool
    score: float
    lane: Literal["green", "yellow", "red"]
    hits: list[RiskHitV1] = Field(max_length=100_000)
    reasons: list[Annotated[str, Field(max_length=100_000)]] = Field(max_length=100_000)
    contributions: list[ContributionV1] = Field(max_length=100_000)
    profile_ids: list[ProfileId] = Field(max_length=100_000)
    random_selection: bool
    campaign_ids: list[CampaignId] = Field(max_length=100_000)


class Assessment(BaseModel):
    """A declaration scored now: nothing stored, no case opened."""

    declaration_id: DeclarationId
    revision: Revision
    lines: list[AssessedLine] = Field(max_length=9999)


class OfficeCapacity(BaseModel):
    share: float = Field(description="the share of lines the office can examine physically")
    threshold: float = Field(description="the red threshold now (at least the configured one)")
    samples: Count = Field(description="recent line scores it is computed from")


class RegistrySize(BaseModel):
    active_recordations: Count
    indexed_terms: Count


class QuotaDay(BaseModel):
    day: Day
    quota: Count
    granted: Count
    refused: Tally


class RedQuotaView(BaseModel):
    """An office's daily red quota, with what its latest day granted and refused."""

    customs_office: OfficeCode
    per_day: Count
    reason: str = Field(max_length=2000)
    set_by: Actor
    set_at: Timestamp | None
    latest_day: QuotaDay | None


class Capacity(BaseModel):
    """Red capacity and the red threshold per office (this replica's view), the registry's size and the quotas."""

    default_share: float | None = Field(ge=0, le=1)
    base_red_threshold: float | None
    offices: dict[str, OfficeCapacity] = Field(max_length=100_000)
    registry: RegistrySize
    profiles_in_force: Count
    red_quotas: list[RedQuotaView] = Field(max_length=100_000)


class RedQuotaSet(BaseModel):
    customs_office: OfficeCode
    per_day: Count
    reason: str = Field(max_length=2000)
    set_by: Actor


class TraderHistory(BaseModel):
    trader_id: TraderId
    infringing_cases: Count = Field(description="earlier cases that ended in confiscation, destruction or forfeiture")
    repeat_infringer: bool


# ---------------------------------------------------------------- learning


class LabelView(BaseModel):
    """What an assessed line turned out to be: a case's outcome or an officer's control examination."""

    declaration_id: DeclarationId
    line_no: LineNo
    source: Literal["case", "control"]
    label: Literal[0, 1] | None = Field(description="1 infringing, 0 not, none unknown (handed to a court)")
    weight: float = Field(ge=0, le=1)
    outcome: str = Field(max_length=48)
    unbiased: bool = Field(description="the line was in the random control sample")
    case_id: CaseId | None
    recorded_by: Actor | None
    note: str | None = Field(max_length=2000)
    at: Timestamp | None


class LineFeaturesView(BaseModel):
    """The feature vector stored for one assessed line, with the rules' result and the models that scored it."""

    model_config = ConfigDict(populate_by_name=True)

    declaration_id: DeclarationId
    revision: Revision
    line_no: LineNo
    schema_: str = Field(alias="schema", max_length=16, description="the feature schema, e.g. f1")
    features: dict[str, float | None] = Field(max_length=1000, description="none: unknown (no exchange rate, ...)")
    rule_score: float
    lane: Literal["green", "yellow", "red"]
    suspected: bool
    random_selection: bool
    model_version: ModelVersionName | None = Field(description="the champion that scored it")
    model_score: float | None
    shadow_version: ModelVersionName | None
    shadow_score: float | None
    assessed_at: Timestamp


class ScoreMetrics(BaseModel):
    """How good a score is on labelled lines, at its examination threshold. ``brier`` and ``ece`` only for a
    probability (absent for the rules' scores outside 0..1)."""

    n: Count
    positives: Count
    flagged: Count
    auc: float | None
    average_precision: float | None
    precision: float | None
    recall: float | None
    fpr: float | None
    recall_ci: tuple[float, float] | None = Field(description="95% Wilson interval")
    fpr_ci: tuple[float, float] | None
    brier: float | None = None
    ece: float | None = None


class ModelAgainstRules(BaseModel):
    model: ScoreMetrics
    rules: ScoreMetrics


class ControlMetrics(ModelAgainstRules):
    champion: ScoreMetrics | None = Field(default=None, description="the champion on the same lines, if any")


class TrainingSplit(BaseModel):
    train: Count
    validation: Count
    validation_share: float = Field(ge=0, le=1)


class ModelMetrics(BaseModel):
    """The model measured on the later labelled lines (held out), overall and on the unbiased control sample."""

    split: TrainingSplit
    validation: ModelAgainstRules
    control: ControlMetrics


ParamValue = str | bool | Annotated[int, Field(ge=-(2**31), le=2**31 - 1)] | float


class ModelView(BaseModel):
    """A model version in the registry: shadow, champion, retired or rejected."""

    model_config = ConfigDict(populate_by_name=True)

    version: ModelVersionName
    status: Literal["shadow", "champion", "retired", "rejected"]
    schema_: str = Field(alias="schema", max_length=16, description="the feature schema it was trained on")
    metrics: ModelMetrics
    params: dict[str, ParamValue] = Field(max_length=200, description="training parameters")
    n_labels: Count
    window: tuple[Timestamp | None, Timestamp | None] = Field(
        description="first and last assessment time of the labelled lines"
    )
    trained_by: Actor
    trained_at: Timestamp | None
    proposed_by: Actor | None = Field(description="the subject of the officer who proposed it")
    promoted_at: Timestamp | None
    previous_champion: ModelVersionName | None


class ModelsInUse(BaseModel):
    champion: ModelVersionName | None
    shadow: ModelVersionName | None


class ModelDecision(BaseModel):
    """One entry of the model registry's audit trail."""

    version: ModelVersionName | None = Field(description="none for a refused training")
    event: str = Field(
        max_length=32,
        description="trained, training_refused, proposed, promoted, promotion_refused, "
        "retired, rolled_back, rejected, load_failed",
    )
    actor: Actor
    actor_sub: Actor | None
    detail: dict[str, Any] | None = Field(max_length=100)
    at: Timestamp | None


class ModelList(BaseModel):
    in_use: ModelsInUse = Field(description="what this replica scores with")
    models: list[ModelView] = Field(max_length=100, description="the latest trained first")
    decisions: list[ModelDecision] = Field(
        default_factory=list,
        max_length=50,
        description="the registry's latest decisions, newest first: trainings (and refused trainings, which "
        "have no version), proposals, promotions, refusals, rollbacks, rejections, artefacts that failed to load",
    )


class ModelWithHistory(ModelView):
    history: list[ModelDecision] = Field(max_length=200)


class TrainedModel(BaseModel):
    """A model trained now; it enters in shadow."""

    version: ModelVersionName
    status: Literal["shadow"]
    labels: Count
    metrics: ModelMetrics


class RolledBack(BaseModel):
    rolled_back: ModelVersionName
    champion: ModelVersionName | None = Field(description="the champion restored; none: the rules alone score")
