"""Tables of learning: features of every assessed line, labels, the model registry and its audit trail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, Float, Index, Integer, LargeBinary, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from services.risk.models import Base
from shared.db import JsonType


class LineFeatures(Base):
    """The feature vector of one assessed line, with the rules' result and the models that scored it."""

    __tablename__ = "line_features"

    declaration_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    schema: Mapped[str] = mapped_column(String(16))
    features: Mapped[list] = mapped_column(JsonType)
    rule_score: Mapped[float] = mapped_column(Float)
    lane: Mapped[str] = mapped_column(String(8))
    suspected: Mapped[bool] = mapped_column(Boolean)
    random_selection: Mapped[bool] = mapped_column(Boolean)
    office: Mapped[str] = mapped_column(String(16))
    model_version: Mapped[str | None] = mapped_column(String(32), nullable=True)  # the champion that scored it
    model_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    shadow_version: Mapped[str | None] = mapped_column(String(32), nullable=True)
    shadow_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    assessed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_line_features_assessed_at", "assessed_at"),)


class LineLabel(Base):
    """What an assessed line turned out to be: a terminal case outcome or an officer's control examination.

    One row per line and source; a case's later outcome replaces an earlier one (by ``seq``). ``unbiased``:
    the line was in the random control sample, so its label says nothing of the targeting that chose it.
    """

    __tablename__ = "line_labels"

    declaration_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(16), primary_key=True)  # case | control
    label: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 1 infringing, 0 not, None unknown
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    outcome: Mapped[str] = mapped_column(String(48))
    unbiased: Mapped[bool] = mapped_column(Boolean, default=False)
    case_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    event_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    actor: Mapped[str | None] = mapped_column(String(128), nullable=True)
    actor_sub: Mapped[str | None] = mapped_column(String(64), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ModelVersion(Base):
    """A trained model: the artefact (LightGBM text), its feature schema, metrics and training data window."""

    __tablename__ = "model_versions"

    version: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # shadow | champion | retired | rejected
    schema: Mapped[str] = mapped_column(String(16))
    artefact: Mapped[bytes] = mapped_column(LargeBinary)
    params: Mapped[dict] = mapped_column(JsonType)
    metrics: Mapped[dict] = mapped_column(JsonType)
    reference: Mapped[dict] = mapped_column(JsonType)  # feature and score distributions at training (drift)
    window_from: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    window_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    n_labels: Mapped[int] = mapped_column(Integer)
    trained_by: Mapped[str] = mapped_column(String(128))
    trained_by_sub: Mapped[str | None] = mapped_column(String(64), nullable=True)
    proposed_by_sub: Mapped[str | None] = mapped_column(String(64), nullable=True)
    trained_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    promoted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    previous_champion: Mapped[str | None] = mapped_column(String(32), nullable=True)


class ModelEvent(Base):
    """Audit trail of every model decision: trained, proposed, promoted, refused, rolled back, load failures."""

    __tablename__ = "model_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    version: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    event: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(128))
    actor_sub: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[dict] = mapped_column(JsonType)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
