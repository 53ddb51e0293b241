"""Tables of the risk service: the recordation registry with its history, and the assessments made."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, DateTime, Index, Integer, String, Text, func, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import JsonType, applied_events_table, make_metadata


class Base(DeclarativeBase):
    metadata = make_metadata()


metadata = Base.metadata


class Recordation(Base):
    __tablename__ = "recordations"

    recordation_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    jurisdiction: Mapped[str] = mapped_column(String(8), index=True)
    status: Mapped[str] = mapped_column(String(16))
    holder_id: Mapped[str] = mapped_column(String(64), index=True)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)
    payload: Mapped[dict] = mapped_column(JsonType)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class RecordationEvent(Base):
    """Audit trail of the registry: every version of every recordation, and who made it."""

    __tablename__ = "recordation_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    recordation_id: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict] = mapped_column(JsonType)
    actor: Mapped[str] = mapped_column(String(128))
    actor_sub: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the token's subject
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    changes: Mapped[list | None] = mapped_column(JsonType, nullable=True)


class Assessment(Base):
    """One assessment per declaration revision: the ledger that makes redelivery harmless."""

    __tablename__ = "assessments"

    declaration_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, primary_key=True)
    result: Mapped[dict] = mapped_column(JsonType)
    case_inputs: Mapped[list] = mapped_column(JsonType)
    assessed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    cases_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # a parcel of a manifest: where its result goes (manifest id, parcel no, waybill) instead of risk.assessments.v1
    parcel: Mapped[dict | None] = mapped_column(JsonType, nullable=True)

    __table_args__ = (
        Index("ix_assessments_cases_pending", "assessed_at", postgresql_where=text("cases_started_at IS NULL")),
    )


class TargetingProfile(Base):
    """An officer's targeting profile (current version) and how many lines it has hit."""

    __tablename__ = "targeting_profiles"

    profile_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    payload: Mapped[dict] = mapped_column(JsonType)
    hits: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    last_hit_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class TargetingProfileVersion(Base):
    """Audit trail of targeting profiles: every version, who made it and when."""

    __tablename__ = "targeting_profile_versions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    profile_id: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict] = mapped_column(JsonType)
    actor: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class TraderCaseOutcome(Base):
    """The last terminal state of each case, with its traders (from cases.events.v1)."""

    __tablename__ = "trader_case_outcomes"

    case_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(32))
    consignor_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    consignee_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    declaration_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    seller_key: Mapped[str | None] = mapped_column(String(160), nullable=True, index=True)
    platform_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)


class CaseSeller(Base):
    """The seller and platform of each case risk opened for an e-commerce consignment (joined in at its end)."""

    __tablename__ = "case_sellers"

    case_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    seller_key: Mapped[str | None] = mapped_column(String(160), nullable=True)
    platform_id: Mapped[str | None] = mapped_column(String(64), nullable=True)


class PlatformVolume(Base):
    """Consignments assessed per e-commerce platform (the denominator of its confiscation rate)."""

    __tablename__ = "platform_volume"

    platform_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    consignments: Mapped[int] = mapped_column(BigInteger, default=0)


class Campaign(Base):
    """A targeting campaign (current version), switched on or off."""

    __tablename__ = "campaigns"

    campaign_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    payload: Mapped[dict] = mapped_column(JsonType)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CampaignVersion(Base):
    """Audit trail of campaigns: every version, switched on or off, who did it, when and why."""

    __tablename__ = "campaign_versions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict] = mapped_column(JsonType)
    actor: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CampaignHits(Base):
    """What a campaign hit, per customs office and day (the consignment's date in its jurisdiction)."""

    __tablename__ = "campaign_hits"

    campaign_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customs_office: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    consignments: Mapped[int] = mapped_column(BigInteger, default=0)
    lines: Mapped[int] = mapped_column(BigInteger, default=0)
    suspected_lines: Mapped[int] = mapped_column(BigInteger, default=0)
    cases: Mapped[int] = mapped_column(BigInteger, default=0)


applied_events = applied_events_table(metadata)


class RedQuota(Base):
    """Red lines an office can examine physically per day (beyond suspected and randomly selected lines)."""

    __tablename__ = "red_quotas"

    customs_office: Mapped[str] = mapped_column(String(16), primary_key=True)
    per_day: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    set_by: Mapped[str] = mapped_column(String(160))
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class RedQuotaDay(Base):
    """One office's red quota on one day: the counter every risk replica draws from in its store transaction."""

    __tablename__ = "red_quota_days"

    customs_office: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    quota: Mapped[int] = mapped_column(Integer)
    granted: Mapped[int] = mapped_column(Integer, default=0)
    refused: Mapped[int] = mapped_column(BigInteger, default=0)
    last_grant: Mapped[int] = mapped_column(Integer, default=0)  # what the latest draw got (read by its RETURNING)
