"""The case workflow definition: signals, the state query, and dispatch to the procedure of the case.

The version is decided when the case starts: cases whose history predates the
``case-workflow-v2`` patch marker run ``v1.CaseV1`` and every signal and query goes to it;
all others load their rule pack (recorded in the history, so later rule changes never
alter a running case) and run their jurisdiction's procedure on a ``CaseFile``. Cases
started under ``case-workflow-v3`` also record every signal they do not take, with the
reason (``signals``), take a step service's refusal as an outcome and escalate a step that
keeps failing (``steps``).

Every signal arrives at one dynamic handler as raw payloads and is decoded there, so that no
payload, however malformed, can fail the workflow task (see ``signals`` for why).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from temporalio import workflow
from temporalio.common import RawValue

from services.cases.workflow import calls
from services.cases.workflow.deadlines import proposal_facts, stop_escalations
from services.cases.workflow.guarantees import counter_guarantee_ok, reject_guarantee, take_guarantee
from services.cases.workflow.procedures import cn, eu, us
from services.cases.workflow.signals import Rejected, check_amounts, model_of, money_problem, one_object, strict
from services.cases.workflow.state import CaseFile
from services.cases.workflow.v1 import CaseV1

with workflow.unsafe.imports_passed_through():
    from shared.contracts.cases import (
        CASE_WORKFLOW_TYPE,
        QUERY_STATE,
        SIGNAL_COURT_NOTICE,
        SIGNAL_DETERMINATION,
        SIGNAL_DISPOSAL_CHOICE,
        SIGNAL_GUARANTEE,
        SIGNAL_HEARING,
        SIGNAL_HOLDER_REPLY,
        SIGNAL_PARTY_SUBMISSION,
        SIGNAL_APPROVAL,
        SIGNAL_CASE_REPAIRED,
        CaseInput,
        ApprovalDecision,
        CaseRepaired,
        CaseState,
        CourtNotice,
        Determination,
        DisposalChoice,
        GuaranteeInfo,
        HearingUpdate,
        HolderReply,
        PartySubmission,
        RulesRequest,
    )
    from shared.approvals import four_eyes
    from shared.rules.calendar import calendar_from_data
    from shared.rules.pack import RulePack

PATCH_V2 = "case-workflow-v2"
PATCH_V3 = "case-workflow-v3"
PATCH_FOUR_EYES = "case-four-eyes"  # an infringing determination waits for a second person (a supervisor)
TERMINAL = ("released", "confiscated", "destroyed", "forfeited", "handed_to_court")


@workflow.defn(name=CASE_WORKFLOW_TYPE)
class CaseWorkflow:
    @workflow.init
    def __init__(self, case: CaseInput) -> None:
        # Decided before any signal is handled (patch markers are known before the workflow object exists).
        self.v1: CaseV1 | None = None if workflow.patched(PATCH_V2) else CaseV1(case)
        self.file = CaseFile.open(case)
        self.file.v3 = self.v1 is None and workflow.patched(PATCH_V3)
        self.file.four_eyes = self.file.v3 and workflow.patched(PATCH_FOUR_EYES)
        self.takes: dict[str, Callable[[Sequence[RawValue]], None]] = {
            SIGNAL_HOLDER_REPLY: self._take_holder_reply,
            SIGNAL_GUARANTEE: self._take_guarantee,
            SIGNAL_DETERMINATION: self._take(Determination, self.on_determination,
                                             lambda d: check_amounts(fine_amount=d.fine_amount,
                                                                     retail_value=d.retail_value)),
            SIGNAL_COURT_NOTICE: self._take(CourtNotice, self.on_court_notice),
            SIGNAL_PARTY_SUBMISSION: self._take(PartySubmission, self.on_party_submission,
                                                lambda s: check_amounts(amount=s.amount)),
            SIGNAL_HEARING: self._take(HearingUpdate, self.on_hearing,
                                       lambda h: check_amounts(fine_amount=h.fine_amount)),
            SIGNAL_DISPOSAL_CHOICE: self._take(DisposalChoice, self.on_disposal_choice),
            SIGNAL_CASE_REPAIRED: self._take(CaseRepaired, self.on_repaired),
            SIGNAL_APPROVAL: self._take(ApprovalDecision, self.on_approval),
        }

    # ------------------------------------------------------------------ run

    @workflow.run
    async def run(self, case: CaseInput) -> CaseState:
        if self.v1 is not None:
            return await self.v1.run()
        f = self.file
        snapshot = await calls.load_rules(RulesRequest(jurisdiction=case.jurisdiction))
        f.rules = RulePack.model_validate(snapshot.pack)
        f.cal = calendar_from_data(snapshot.calendar)
        f.log("case_opened", {
            "recordation_id": case.recordation_id, "mark": case.mark, "score": case.score, "reasons": case.reasons,
            "mode": case.mode, "rule_pack": f.rules.version, "opened_by": case.opened_by,
        })
        try:
            if case.jurisdiction == "CN":
                if case.mode == "application":
                    return await cn.application(f)
                return await cn.ex_officio(f)
            if case.jurisdiction == "EU":
                return await eu.run(f)
            if case.jurisdiction == "US":
                return await us.run(f)
            raise ValueError(f"no procedure for jurisdiction {case.jurisdiction}")
        finally:
            stop_escalations(f)

    # ------------------------------------------------------------------ taking signals

    @workflow.signal(dynamic=True)
    def on_signal(self, name: str, args: Sequence[RawValue]) -> None:
        """Every signal: decoded and checked, then handed to its handler; nothing here raises."""
        take = self.takes.get(name)
        try:
            if take is None:
                raise Rejected("unknown signal")
            take(args)
        except Rejected as why:
            self._ignored(name, str(why))
        except Exception as exc:  # noqa: BLE001 - a signal must never fail the workflow task
            workflow.logger.exception("signal %s could not be taken", name)
            self._ignored(name, f"error while taking it: {type(exc).__name__}: {exc}"[:500])

    def _ignored(self, name: str, why: str) -> None:
        if self.file.v3:
            self.file.log("signal_ignored", {"signal": name[:64], "why": why})
        else:  # cases started before v3 keep their history as it was: the SDK dropped such signals unrecorded
            workflow.logger.warning("signal %s ignored: %s", name, why)

    def _take(self, model: type, handler: Callable[[Any], None],
              check: Callable[[Any], None] | None = None) -> Callable[[Sequence[RawValue]], None]:
        def take(args: Sequence[RawValue]) -> None:
            if not self.file.v3:
                handler(strict(model, args))
                return
            value = model_of(model, one_object(args))
            if check is not None:
                check(value)
            handler(value)
        return take

    def _take_holder_reply(self, args: Sequence[RawValue]) -> None:
        """A reply whose guarantee cannot be taken is still a reply: the guarantee is refused, the holder told."""
        if not self.file.v3:
            self.on_holder_reply(strict(HolderReply, args))
            return
        data = one_object(args)
        raw = data.pop("guarantee", None)
        reply = model_of(HolderReply, data)
        guarantee, problem = (None, None) if raw is None else self._guarantee_of(raw)
        self.on_holder_reply(reply.model_copy(update={"guarantee": guarantee}),
                             rejected=(raw, problem) if problem and reply.decision == "detain" else None)

    def _take_guarantee(self, args: Sequence[RawValue]) -> None:
        if not self.file.v3:
            self.on_guarantee(strict(GuaranteeInfo, args))
            return
        raw = one_object(args)
        guarantee, problem = self._guarantee_of(raw)
        if guarantee is not None:
            self.on_guarantee(guarantee)
            return
        f = self.file
        if not f.accepting_reply:
            raise Rejected(f"reply window closed; and {problem}")
        reject_guarantee(f, _shown(raw), problem or "not a guarantee")

    def _guarantee_of(self, raw: Any) -> tuple[GuaranteeInfo | None, str | None]:
        """The guarantee, or why it cannot be taken (out of bounds, not in the currency of the rule pack)."""
        try:
            g = model_of(GuaranteeInfo, raw)
        except Rejected as why:
            return None, str(why)
        problem = money_problem("amount", g.amount, positive=True)
        rules = self.file.rules
        if problem is None and rules is not None and g.currency != rules.currency:
            problem = f"currency {g.currency} is not the guarantee currency {rules.currency}"
        return (None, problem) if problem else (g, None)

    # ------------------------------------------------------------------ signal handlers

    def on_holder_reply(self, reply: HolderReply, rejected: tuple[Any, str] | None = None) -> None:
        if self.v1 is not None:
            self.v1.on_holder_reply(reply)
            return
        f = self.file
        if not f.accepting_reply or f.reply is not None:
            f.log("reply_ignored", {"decision": reply.decision,
                                    "why": "reply window closed" if not f.accepting_reply else "already replied"})
            return
        f.reply = reply
        if reply.guarantee is not None:
            take_guarantee(f, reply.guarantee)
        f.log("holder_replied", {"decision": reply.decision, "by": reply.replied_by, "notice_id": reply.notice_id})
        if rejected is not None:
            reject_guarantee(f, _shown(rejected[0]), rejected[1])

    def on_guarantee(self, guarantee: GuaranteeInfo) -> None:
        if self.v1 is not None:
            self.v1.on_guarantee(guarantee)
            return
        f = self.file
        if not f.accepting_reply:
            f.log("guarantee_ignored", {"reference": guarantee.reference, "why": "reply window closed"})
            return
        take_guarantee(f, guarantee)

    def on_determination(self, determination: Determination) -> None:
        if self.v1 is not None:
            self.v1.on_determination(determination)
            return
        f = self.file
        if f.state != "detained" or f.determination is not None:
            f.log("determination_ignored", {"outcome": determination.outcome, "state": f.state})
            return
        if f.four_eyes and determination.outcome == "infringing":
            self._propose(determination)
            return
        f.determination = determination
        f.log("customs_determined", determination.model_dump(mode="json"))

    def _propose(self, proposal: Determination | HearingUpdate) -> None:
        """A confiscation, or a fine a hearing concluded, is proposed by one person and approved by another."""
        f = self.file
        if f.proposal is not None:
            f.log("determination_ignored" if isinstance(proposal, Determination) else "hearing_update_ignored",
                  {"state": f.state, "why": "a proposal already waits for a supervisor's approval"})
            return
        pending = sorted((d for d in f.deadlines.values() if d.status == "pending"), key=lambda d: d.due_at)
        f.proposal = proposal
        f.proposal_deadline = pending[0].name if pending else None
        detail = proposal_facts(proposal)
        if isinstance(proposal, Determination):
            detail["fine_tier"] = proposal.fine_tier
            detail["fine_amount"] = str(proposal.fine_amount) if proposal.fine_amount is not None else None
        f.log("approval_requested", {
            **detail, "proposed_by_sub": proposal.actor.sub if proposal.actor else None,
            "deadline": f.proposal_deadline, "due_at": pending[0].due_at.isoformat() if pending else None,
        })

    def on_approval(self, decision: ApprovalDecision) -> None:
        f = self.file
        proposal = f.proposal
        by = decision.actor
        if proposal is None:
            f.log("approval_ignored", {"why": "no proposal waits for approval", "by": by.name if by else None})
            return
        rule = four_eyes(proposer_sub=proposal.actor.sub if proposal.actor else None,
                         approver_sub=by.sub if by else "", approver_role=by.role if by else "")
        if not rule.allowed:
            f.log("approval_ignored", {"why": rule.message, "code": rule.code, "by": by.name if by else None})
            return
        assert by is not None
        detail = {**proposal_facts(proposal), "by": by.name, "by_sub": by.sub, "note": decision.note}
        f.proposal, f.proposal_deadline = None, None
        if decision.decision == "refuse":
            f.log("approval_refused", detail)
            return
        f.log("approval_granted", detail)
        if isinstance(proposal, Determination):
            f.determination = proposal.model_copy(update={"approved_by": by})
            f.log("customs_determined", f.determination.model_dump(mode="json"))
        else:
            f.hearing = proposal.model_copy(update={"approved_by": by})
            f.log("hearing_concluded", f.hearing.model_dump(mode="json", exclude_none=True))

    def on_court_notice(self, notice: CourtNotice) -> None:
        if self.v1 is not None:
            self.v1.on_court_notice(notice)
            return
        f = self.file
        if f.state not in ("detained", "undetermined") or f.court_notice is not None:
            f.log("court_notice_ignored", {"reference": notice.reference, "state": f.state})
            return
        f.court_notice = notice
        f.log("court_notice_received", notice.model_dump(mode="json"))

    def on_party_submission(self, submission: PartySubmission) -> None:
        if self.v1 is not None:
            self.v1.on_party_submission(submission)
            return
        f = self.file
        if f.state in TERMINAL:
            f.log("submission_ignored", {"kind": submission.kind, "state": f.state})
            return
        f.submissions.append(submission)
        detail = submission.model_dump(mode="json", exclude_none=True)
        if submission.kind == "counter_guarantee":
            ok = counter_guarantee_ok(f, submission)
            f.counter_guaranteed = f.counter_guaranteed or ok
            detail["accepted"] = ok
        f.log("party_submission", detail)

    def on_hearing(self, update: HearingUpdate) -> None:
        if self.v1 is not None:
            self.v1.on_hearing(update)
            return
        f = self.file
        if not f.hearing_open:
            f.log("hearing_update_ignored", {"kind": update.kind, "state": f.state})
            return
        if f.four_eyes and update.kind == "concluded" and update.fine_amount is not None:
            self._propose(update)
            return
        f.hearing = update
        f.log("hearing_" + update.kind, update.model_dump(mode="json", exclude_none=True))

    def on_disposal_choice(self, choice: DisposalChoice) -> None:
        if self.v1 is not None:
            self.v1.on_disposal_choice(choice)
            return
        f = self.file
        f.disposal_choice = choice
        f.log("disposal_facts_recorded", choice.model_dump(mode="json", exclude_none=True))

    def on_repaired(self, repaired: CaseRepaired) -> None:
        """The case was reset to its last good point after its workflow failed: who did it, and why."""
        if self.v1 is not None:
            workflow.logger.info("case repaired by %s: %s", repaired.by, repaired.reason)
            return
        self.file.log("case_repaired", repaired.model_dump(mode="json", exclude_none=True))

    @workflow.query(name=QUERY_STATE)
    def snapshot(self) -> CaseState:
        if self.v1 is not None:
            return self.v1.snapshot()
        return self.file.snapshot()


def _shown(raw: Any) -> Any:
    """What a refused guarantee said, bounded for the history."""
    if isinstance(raw, dict):
        return {str(k)[:32]: str(v)[:128] for k, v in list(raw.items())[:8]}
    return str(raw)[:128]
