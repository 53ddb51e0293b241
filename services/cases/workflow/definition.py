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

Cases started with the ``case-parties`` marker also give the declarant, consignor, consignee or
importer the notices the law gives them, and count the parties' time limits from the day each notice
is served (``parties``).

Cases started with the ``case-consignment`` marker (v4) are consignment cases: one per
declaration and rights holder, with lines that later revisions of the declaration add or
withdraw, per-line decisions, and the US seizure only on an officer's finding. Per-line
cases started before it (v2, v3) run the same procedures on their one line; the paths that
would differ for them are behind the v4 flag or behind their own patch (``us.PATCH_US_FINDING``),
so every recorded history replays.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from temporalio import workflow
from temporalio.common import RawValue

from services.cases.workflow import calls, lines, parties
from services.cases.workflow.deadlines import lapse_proposal, proposal_facts, retime, stop_escalations
from services.cases.workflow.disposition import release
from services.cases.workflow.guarantees import counter_guarantee_ok, reject_guarantee, take_guarantee
from services.cases.workflow.procedures import cn, eu, us
from services.cases.workflow.signals import M, Rejected, check_amounts, model_of, money_problem, one_object, strict
from services.cases.workflow.state import CaseFile, CaseWithdrawn
from services.cases.workflow.v1 import CaseV1

with workflow.unsafe.imports_passed_through():
    from shared.approvals import four_eyes
    from shared.contracts.cases import (
        CASE_WORKFLOW_TYPE,
        QUERY_STATE,
        SIGNAL_APPROVAL,
        SIGNAL_CALENDAR,
        SIGNAL_CASE_REPAIRED,
        SIGNAL_COURT_NOTICE,
        SIGNAL_DETERMINATION,
        SIGNAL_DISPOSAL_CHOICE,
        SIGNAL_GUARANTEE,
        SIGNAL_HEARING,
        SIGNAL_HOLDER_REPLY,
        SIGNAL_LINES,
        SIGNAL_NOTICE_SERVED,
        SIGNAL_PARTY_SUBMISSION,
        SIGNAL_PETITION_DECISION,
        ApprovalDecision,
        CalendarUpdate,
        CaseInput,
        CaseRepaired,
        CaseState,
        CourtNotice,
        Determination,
        DisposalChoice,
        GuaranteeInfo,
        HearingUpdate,
        HolderReply,
        LinesRevision,
        NoticeServed,
        PartySubmission,
        PetitionDecision,
        RulesRequest,
    )
    from shared.rules.calendar import calendar_from_data
    from shared.rules.pack import RulePack

PATCH_V2 = "case-workflow-v2"
PATCH_V3 = "case-workflow-v3"
PATCH_V4 = "case-consignment"
PATCH_FOUR_EYES = "case-four-eyes"  # an infringing determination waits for a second person (a supervisor)
PATCH_PARTIES = parties.PATCH_PARTIES  # the parties get the notices the law gives them; service starts their clocks
PATCH_WITHDRAW = "case-proposal-withdraw"  # the person who proposed a four-eyes decision may withdraw it
TERMINAL = ("released", "confiscated", "destroyed", "forfeited", "handed_to_court", "excluded")


@workflow.defn(name=CASE_WORKFLOW_TYPE)
class CaseWorkflow:
    @workflow.init
    def __init__(self, case: CaseInput) -> None:
        # Decided before any signal is handled (patch markers are known before the workflow object exists).
        self.v1: CaseV1 | None = None if workflow.patched(PATCH_V2) else CaseV1(case)
        self.file = CaseFile.open(case, v4=self.v1 is None and workflow.patched(PATCH_V4))
        self.file.v3 = self.v1 is None and workflow.patched(PATCH_V3)
        self.file.four_eyes = self.file.v3 and workflow.patched(PATCH_FOUR_EYES)
        self.file.parties = self.file.v4 and workflow.patched(PATCH_PARTIES)
        self.file.withdrawals = self.file.four_eyes and workflow.patched(PATCH_WITHDRAW)
        self.takes: dict[str, Callable[[Sequence[RawValue]], None]] = {
            SIGNAL_HOLDER_REPLY: self._take_holder_reply,
            SIGNAL_GUARANTEE: self._take_guarantee,
            SIGNAL_DETERMINATION: self._take(
                Determination,
                self.on_determination,
                lambda d: check_amounts(fine_amount=d.fine_amount, retail_value=d.retail_value),
            ),
            SIGNAL_COURT_NOTICE: self._take(CourtNotice, self.on_court_notice),
            SIGNAL_PARTY_SUBMISSION: self._take(
                PartySubmission, self.on_party_submission, lambda s: check_amounts(amount=s.amount)
            ),
            SIGNAL_HEARING: self._take(
                HearingUpdate, self.on_hearing, lambda h: check_amounts(fine_amount=h.fine_amount)
            ),
            SIGNAL_DISPOSAL_CHOICE: self._take(DisposalChoice, self.on_disposal_choice),
            SIGNAL_CASE_REPAIRED: self._take(CaseRepaired, self.on_repaired),
            SIGNAL_LINES: self._take(LinesRevision, self.on_lines),
            SIGNAL_CALENDAR: self._take(CalendarUpdate, self.on_calendar),
            SIGNAL_PETITION_DECISION: self._take(PetitionDecision, self.on_petition_decision),
            SIGNAL_APPROVAL: self._take(ApprovalDecision, self.on_approval),
            SIGNAL_NOTICE_SERVED: self._take(NoticeServed, self.on_notice_served),
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
        f.cal_version = snapshot.calendar.get("version")
        opened = {
            "recordation_id": case.recordation_id,
            "mark": case.mark,
            "score": case.score,
            "reasons": case.reasons,
            "mode": case.mode,
            "rule_pack": f.rules.version,
            "opened_by": case.opened_by,
        }
        if f.v4:
            opened.update(
                lines=lines.summary(f),
                revision=f.revision,
                calendar=f.cal_version,
                consignment=f.consignment.model_dump(mode="json") if f.consignment else None,
            )
        f.log("case_opened", opened)
        line_task = asyncio.create_task(lines.follow_changes(f)) if f.v4 else None
        try:
            try:
                return await self._procedure(f)
            except CaseWithdrawn as withdrawn:
                return await release(f, withdrawn.reason)
        finally:
            stop_escalations(f)
            parties.stop_watches(f)
            if line_task is not None:
                line_task.cancel()

    async def _procedure(self, f: CaseFile) -> CaseState:
        case = f.case
        if case.jurisdiction == "CN":
            if case.mode == "application":
                return await cn.application(f)
            return await cn.ex_officio(f)
        if case.jurisdiction == "EU":
            return await eu.run(f)
        if case.jurisdiction == "US":
            return await us.run(f)
        raise ValueError(f"no procedure for jurisdiction {case.jurisdiction}")

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

    def _take(
        self, model: type[M], handler: Callable[[M], None], check: Callable[[M], None] | None = None
    ) -> Callable[[Sequence[RawValue]], None]:
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
        self.on_holder_reply(
            reply.model_copy(update={"guarantee": guarantee}),
            rejected=(raw, problem) if problem and reply.decision == "detain" else None,
        )

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
            f.log(
                "reply_ignored",
                {
                    "decision": reply.decision,
                    "why": "reply window closed" if not f.accepting_reply else "already replied",
                },
            )
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
        problem = lines.determination_problem(f, determination)
        if problem is not None:
            f.log("determination_ignored", {"outcome": determination.outcome, "state": f.state, "why": problem})
            return
        if f.four_eyes and lines.infringes(f, determination):
            self._propose(determination)
            return
        f.determination = determination
        f.log("customs_determined", determination.model_dump(mode="json", exclude_defaults=not f.v4))

    def _propose(self, proposal: Determination | HearingUpdate) -> None:
        """A confiscation, or a fine a hearing concluded, is proposed by one person and approved by another."""
        f = self.file
        if f.proposal is not None:
            f.log(
                "determination_ignored" if isinstance(proposal, Determination) else "hearing_update_ignored",
                {"state": f.state, "why": "a proposal already waits for a supervisor's approval"},
            )
            return
        pending = sorted((d for d in f.deadlines.values() if d.status == "pending"), key=lambda d: d.due_at)
        f.proposal = proposal
        f.proposal_deadline = pending[0].name if pending else None
        detail = proposal_facts(proposal)
        if isinstance(proposal, Determination):
            detail["fine_tier"] = proposal.fine_tier
            detail["fine_amount"] = str(proposal.fine_amount) if proposal.fine_amount is not None else None
        if f.withdrawals and proposal.note:  # what the proposer wrote, for the supervisor who decides
            detail["note"] = proposal.note
        f.log(
            "approval_requested",
            {
                **detail,
                "proposed_by_sub": proposal.actor.sub if proposal.actor else None,
                "deadline": f.proposal_deadline,
                "due_at": pending[0].due_at.isoformat() if pending else None,
            },
        )

    def on_approval(self, decision: ApprovalDecision) -> None:
        f = self.file
        proposal = f.proposal
        by = decision.actor
        if decision.decision == "withdraw":
            self.on_withdrawal(decision)
            return
        if proposal is None:
            f.log("approval_ignored", {"why": "no proposal waits for approval", "by": by.name if by else None})
            return
        rule = four_eyes(
            proposer_sub=proposal.actor.sub if proposal.actor else None,
            approver_sub=by.sub if by else "",
            approver_role=by.role if by else "",
        )
        if not rule.allowed:
            f.log("approval_ignored", {"why": rule.message, "code": rule.code, "by": by.name if by else None})
            return
        assert by is not None
        if isinstance(proposal, Determination) and decision.decision == "approve":
            problem = lines.determination_problem(f, proposal)
            if problem is not None:  # lines left or moved while the proposal waited
                lapse_proposal(f, f"the case's lines changed before a supervisor approved: {problem}")
                return
        detail = {**proposal_facts(proposal), "by": by.name, "by_sub": by.sub, "note": decision.note}
        f.proposal, f.proposal_deadline = None, None
        if decision.decision == "refuse":
            f.log("approval_refused", detail)
            return
        f.log("approval_granted", detail)
        if isinstance(proposal, Determination):
            f.determination = proposal.model_copy(update={"approved_by": by})
            f.log("customs_determined", f.determination.model_dump(mode="json", exclude_defaults=not f.v4))
        else:
            f.hearing = proposal.model_copy(update={"approved_by": by})
            f.log("hearing_concluded", f.hearing.model_dump(mode="json", exclude_none=True))

    def on_withdrawal(self, decision: ApprovalDecision) -> None:
        """The person who proposed a four-eyes decision withdraws it before a supervisor decides (cases started
        under ``case-proposal-withdraw``); the case waits for a new determination as after a refusal."""
        f = self.file
        proposal, by = f.proposal, decision.actor
        who = by.name if by else None
        if not f.withdrawals:
            f.log(
                "approval_ignored",
                {
                    "why": "this case was started before a proposal could be withdrawn; a "
                    "supervisor refuses it instead",
                    "by": who,
                },
            )
            return
        if proposal is None:
            f.log("approval_ignored", {"why": "no proposal waits for approval", "by": who})
            return
        proposer = proposal.actor.sub if proposal.actor else None
        if by is None or proposer is None or proposer != by.sub:
            f.log("approval_ignored", {"why": "only the person who proposed it withdraws a proposal", "by": who})
            return
        f.proposal, f.proposal_deadline = None, None
        f.log(
            "approval_withdrawn", {**proposal_facts(proposal), "by": by.name, "by_sub": by.sub, "note": decision.note}
        )

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

    def on_lines(self, revision: LinesRevision) -> None:
        if self.v1 is not None:
            self.v1.on_ignored("lines_revision_ignored", {"revision": revision.revision})
            return
        lines.apply_revision(self.file, revision)

    def on_calendar(self, update: CalendarUpdate) -> None:
        if self.v1 is not None:
            return  # v1 counts on the calendar files of the worker
        retime(self.file, update)

    def on_petition_decision(self, decision: PetitionDecision) -> None:
        f = self.file
        if self.v1 is not None or f.state != "seized" or f.petition_decision is not None or not f.submitted("petition"):
            (self.v1.on_ignored if self.v1 is not None else f.log)(
                "petition_decision_ignored", {"outcome": decision.outcome, "state": f.state}
            )
            return
        f.petition_decision = decision
        f.log("petition_decided", decision.model_dump(mode="json", exclude_none=True))

    def on_notice_served(self, served: NoticeServed) -> None:
        """An officer served a party's notice on paper: its clock starts from that service."""
        if self.v1 is not None or not self.file.parties:
            raise Rejected("the case predates notices to parties")
        parties.on_paper_service(self.file, served)

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


def _shown(raw: Any, depth: int = 0) -> Any:
    """What a refused guarantee said, bounded for the history (nested objects such as who posted it stay objects)."""
    if isinstance(raw, dict) and depth < 2:
        return {str(k)[:32]: _shown(v, depth + 1) for k, v in list(raw.items())[:8]}
    if raw is None or isinstance(raw, (bool, int, float)):
        return raw
    return str(raw)[:128]
