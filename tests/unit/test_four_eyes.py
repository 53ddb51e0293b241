"""The four-eyes rule (recordation approvals now; confiscations and large fines in the case workflow)."""

from __future__ import annotations

import pytest

from shared.approvals import four_eyes


def test_a_second_supervisor_may_approve() -> None:
    d = four_eyes(proposer_sub="wang.wei", approver_sub="zhang.min", approver_role="supervisor")
    assert d.allowed and d.code is None and d.status == 200


def test_the_proposer_may_not_approve_even_as_supervisor() -> None:
    d = four_eyes(proposer_sub="zhang.min", approver_sub="zhang.min", approver_role="supervisor")
    assert (d.allowed, d.code, d.status) == (False, "same_person", 409)


@pytest.mark.parametrize("role", ["officer", "administrator", "rights_holder", "system", "party", "clearance_system"])
def test_only_supervisors_approve(role: str) -> None:
    d = four_eyes(proposer_sub="wang.wei", approver_sub="someone", approver_role=role)
    assert (d.allowed, d.code, d.status) == (False, "approver_not_supervisor", 403)


def test_a_proposal_without_proposer_cannot_show_a_second_person() -> None:
    for proposer in (None, ""):
        d = four_eyes(proposer_sub=proposer, approver_sub="zhang.min", approver_role="supervisor")
        assert (d.allowed, d.code, d.status) == (False, "proposer_unknown", 409)


def test_approver_must_be_identified() -> None:
    d = four_eyes(proposer_sub="wang.wei", approver_sub="", approver_role="supervisor")
    assert not d.allowed and d.code == "approver_unknown"


def test_other_approver_roles_can_be_configured() -> None:
    d = four_eyes(
        proposer_sub="a",
        approver_sub="b",
        approver_role="administrator",
        approver_roles=frozenset({"supervisor", "administrator"}),
    )
    assert d.allowed
