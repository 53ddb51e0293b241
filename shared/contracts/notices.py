"""What the notify service answers at its HTTP edge: a notice with its deliveries, reply and legal document, the
delivery log with every attempt, a reply taken, and a recipient's webhook settings, signing keys and endpoint.
(The case workflow's own answers, ``NoticeResult``, are in ``shared.contracts.cases``.)"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from shared.contracts.bounds import CaseId, Count, Day, HolderId, NoticeId, Seq, Timestamp, TraderId
from shared.contracts.cases import HolderReply

RecipientKind = Literal["rights_holder", "party"]
# A recipient as the webhook settings routes name it in their path: a holder id or a party (trader) id.
RECIPIENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
RecipientId = Annotated[str, StringConstraints(pattern=RECIPIENT_ID_PATTERN)]
KeyId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")]
# A row number of notify's own tables (a delivery, a cost): far below this for the platform's lifetime.
RowId = Annotated[int, Field(ge=1, le=10**12)]
DeliveryStatus = Literal["pending", "sending", "retrying", "delivered", "undeliverable", "not_configured"]
Url = Annotated[str, StringConstraints(max_length=2048)]


class AddresseeView(BaseModel):
    """Whom a notice is addressed to: the case's rights holder, or a party in the role the law gives it."""

    kind: RecipientKind
    id: TraderId = Field(description="the holder id or the party's id")
    role: str = Field(max_length=32, description="rights_holder, declarant, consignor, consignee, importer, ...")


class DeliveryRecipient(BaseModel):
    kind: RecipientKind
    id: TraderId
    name: str = Field(max_length=256)


class DeliveryView(BaseModel):
    """A notice to one recipient on one channel."""

    delivery_id: RowId
    notice_id: NoticeId
    recipient: DeliveryRecipient
    channel: Literal["email", "webhook"]
    target: Url | None = Field(description="the address or URL; none when the recipient registered none")
    message_id: str | None = Field(
        max_length=256, description="the e-mail Message-ID or webhook event id, the same on every attempt"
    )
    status: DeliveryStatus
    detail: str = Field(max_length=2048, description="the last outcome, readable")
    attempts: Count
    next_attempt_at: Timestamp | None
    served_at: Timestamp | None = Field(description="when it was accepted (SMTP) or answered 2xx")
    created_at: Timestamp | None
    at: Timestamp | None = Field(description="last change")


class DeliveryAttemptView(BaseModel):
    """One attempt: when, what came back and what it meant."""

    attempt: Seq
    started_at: Timestamp | None
    finished_at: Timestamp | None
    outcome: str = Field(
        max_length=32,
        description="accepted, temporary_failure, permanent_failure, refused, unknown; in_flight while it runs",
    )
    code: int | None = Field(ge=0, le=999, description="the HTTP status or SMTP reply code")
    detail: str = Field(max_length=2048)
    signed_with: list[KeyId] | None = Field(
        default=None, max_length=10, description="webhooks: the signing keys (present only when keys signed it)"
    )


class DeliveryWithAttempts(DeliveryView):
    attempt_log: list[DeliveryAttemptView] = Field(max_length=10_000)


class ReplyView(BaseModel):
    """The rights holder's answer to the notice."""

    decision: Literal["detain", "no_detention"]
    content: HolderReply = Field(description="the reply as recorded: decision, guarantee, statement")
    replied_by: str = Field(max_length=128)
    received_at: Timestamp
    signalled_at: Timestamp | None = Field(description="when the case was told; none while that is pending")


class RenderedDocument(BaseModel):
    """The legal document the notice carried, numbered in its office's register."""

    status: Literal["rendered"]
    number: str = Field(max_length=64)
    kind: str | None = Field(max_length=32, description="suspension_notice, detention_notice, ...")
    title: str | None = Field(max_length=512)
    jurisdiction: str | None = Field(max_length=8)
    languages: list[Annotated[str, StringConstraints(max_length=16)]] | None = Field(
        max_length=10, description="e.g. zh-CN, en-GB; the first one rules"
    )
    language: str | None = Field(max_length=16)
    issued_on: Day | None
    html_url: Url
    pdf_url: Url
    txt_url: Url


class UnrenderedDocument(BaseModel):
    """No document went with the notice (it went as plain text): why."""

    status: Literal["not_rendered"]
    reason: str | None = Field(max_length=2048)
    kind: str | None = Field(max_length=32)


NoticeDocumentView = Annotated[RenderedDocument | UnrenderedDocument, Field(discriminator="status")]


class NoticeView(BaseModel):
    """A written notice with its deliveries (a holder or a party sees its own), reply and document."""

    notice_id: NoticeId
    case_id: CaseId
    kind: str = Field(max_length=32, description="suspension, detention, confiscation, ...")
    holder_id: HolderId
    addressee: AddresseeView
    holder_name: str = Field(max_length=256)
    subject: str = Field(max_length=512)
    body: str = Field(max_length=100_000)
    issued_by: str | None = Field(max_length=128)
    reply_allowed: bool
    reply_deadline_at: Timestamp | None
    created_at: Timestamp | None
    served_at: Timestamp | None = Field(description="when the notice counts as served on its addressee")
    deliveries: list[DeliveryView] = Field(max_length=100)
    reply: ReplyView | None
    document: NoticeDocumentView | None


class NoticeDeliveries(BaseModel):
    """The delivery log of a notice: every attempt per recipient and channel."""

    notice_id: NoticeId
    case_id: CaseId
    served_at: Timestamp | None
    deliveries: list[DeliveryWithAttempts] = Field(max_length=100)


class ReplyRecorded(BaseModel):
    """The reply is recorded (201), or the same reply was recorded before (200); the case is told."""

    notice_id: NoticeId
    case_id: CaseId
    decision: Literal["detain", "no_detention"]
    recorded: Literal[True]
    forwarded_to_case: bool = Field(description="false: the case could not be told now; notify tells it later")


class Recipient(BaseModel):
    kind: RecipientKind
    id: RecipientId


class SignatureSpec(BaseModel):
    """How webhooks are signed, for the receiver that checks them."""

    header: str = Field(max_length=64)
    format: str = Field(max_length=128)
    algorithm: str = Field(max_length=256)
    event_id_header: str = Field(max_length=64)
    replay_window_seconds: Count


class SigningKeyView(BaseModel):
    """A webhook signing key (never its secret)."""

    key_id: KeyId
    status: Literal["current", "retiring", "retired"]
    created_at: Timestamp
    created_by: str = Field(max_length=128)
    verify_until: Timestamp | None = Field(description="a rotated-out key signs beside the new one until then")
    rotated_by: str | None = Field(max_length=128)


class WebhookSettings(BaseModel):
    """A recipient's webhook: the endpoint last used, the signing keys, and how to check a signature."""

    recipient: Recipient
    webhook_url: Url | None
    keys: list[SigningKeyView] = Field(max_length=10_000)
    signature: SignatureSpec


class KeyRotation(BaseModel):
    """A new signing key; its secret is in this answer only."""

    recipient: Recipient
    key_id: KeyId
    secret: str = Field(max_length=128)
    created_at: Timestamp
    created_by: str = Field(max_length=128)
    previous_key_id: KeyId | None
    previous_key_signs_until: Timestamp | None
    signature: SignatureSpec


class PartyRecipient(BaseModel):
    kind: Literal["party"]
    id: RecipientId


class PartyWebhookView(BaseModel):
    """A party's registered webhook endpoint."""

    recipient: PartyRecipient
    webhook_url: Url
    registered_by: str = Field(max_length=128)
