"""The four-eyes rule: a decision proposed by one person is approved by another, who is a supervisor.

Pure, so the registry (recordation approvals) and the case workflow (confiscations, large fines)
give the same answer. ``code`` is the machine-readable refusal; ``status`` the HTTP answer for it.
"""

from __future__ import annotations

from dataclasses import dataclass

APPROVER_ROLES = frozenset({"supervisor"})


@dataclass(frozen=True)
class FourEyesDecision:
    allowed: bool
    code: str | None = None
    message: str = ""
    status: int = 200


def four_eyes(
    *, proposer_sub: str | None, approver_sub: str, approver_role: str, approver_roles: frozenset[str] = APPROVER_ROLES
) -> FourEyesDecision:
    """May ``approver_sub`` (in ``approver_role``) approve what ``proposer_sub`` proposed?

    Refused when the approver is not a supervisor (403 ``approver_not_supervisor``) or is the proposer
    (409 ``same_person``). A proposal with no recorded proposer cannot prove a second person and is
    refused (409 ``proposer_unknown``).
    """
    if approver_role not in approver_roles:
        return FourEyesDecision(
            False,
            "approver_not_supervisor",
            f"approval needs a {' or '.join(sorted(approver_roles))}, not a {approver_role}",
            403,
        )
    if not approver_sub:
        return FourEyesDecision(False, "approver_unknown", "the approver is not identified", 403)
    if not proposer_sub:
        return FourEyesDecision(
            False, "proposer_unknown", "the proposal does not name who made it, so a second person cannot be shown", 409
        )
    if proposer_sub == approver_sub:
        return FourEyesDecision(
            False,
            "same_person",
            "four-eyes rule: the person who proposed this cannot also approve or refuse it; another supervisor decides",
            409,
        )
    return FourEyesDecision(True, message=f"approved by {approver_sub}, proposed by {proposer_sub}")
