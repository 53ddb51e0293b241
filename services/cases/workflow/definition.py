"""The case workflow definition: signals, the state query, and dispatch to the procedure of the case.

The version is decided when the case starts: cases whose history predates the
``case-workflow-v2`` patch marker run ``v1.CaseV1`` and every signal and query goes to it;
all others load their rule pack (recorded in the history, so later rule changes never
alter a running case) and run their jurisdiction's procedure on a ``CaseFile``.

Cases started with the ``case-consignment`` marker (v3) are consignment cases: one per
declaration and rights holder, with lines that later revisions of the declaration add or
withdraw, per-line decisions, and the US seizure only on an officer's finding. Per-line
cases started before it (v2) run the same procedures on their one line; the paths that
would differ for them are behind the v3 flag or behind their own patch (``us.PATCH_US_FINDING``),
so every recorded history replays.
"""

from __future__ import annotations

import asyncio

from temporalio import workflow

from services.cases.workflow import calls, lines
from services.cases.workflow.deadlines import retime, stop_escalations
from services.cases.workflow.disposition import release
from services.cases.workflow.guarantees import counter_guarantee_ok, take_guarantee
from services.cases.workflow.procedures import cn, eu, us
from services.cases.workflow.state import CaseFile, CaseWithdrawn
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
        SIGNAL_CALENDAR,
        SIGNAL_LINES,
        SIGNAL_PETITION_DECISION,
        CalendarUpdate,
        CaseInput,
        CaseState,
        CourtNotice,
        Determination,
        DisposalChoice,
        GuaranteeInfo,
        HearingUpdate,
        HolderReply,
        LinesRevision,
        PartySubmission,
        PetitionDecision,
        RulesRequest,
    )
    from shared.rules.calendar import calendar_from_data
    from shared.rules.pack import RulePack

PATCH_V2 = "case-workflow-v2"
PATCH_V3 = "case-consignment"
TERMINAL = ("released", "confiscated", "destroyed", "forfeited", "handed_to_court", "excluded")


@workflow.defn(name=CASE_WORKFLOW_TYPE)
class CaseWorkflow:
    @workflow.init
    def __init__(self, case: CaseInput) -> None:
        # Decided before any signal is handled (patch markers are known before the workflow object exists).
        self.v1: CaseV1 | None = None if workflow.patched(PATCH_V2) else CaseV1(case)
        self.file = CaseFile.open(case, v3=self.v1 is None and workflow.patched(PATCH_V3))

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
            "recordation_id": case.recordation_id, "mark": case.mark, "score": case.score, "reasons": case.reasons,
            "mode": case.mode, "rule_pack": f.rules.version, "opened_by": case.opened_by,
        }
        if f.v3:
            opened.update(lines=lines.summary(f), revision=f.revision, calendar=f.cal_version,
                          consignment=f.consignment.model_dump(mode="json") if f.consignment else None)
        f.log("case_opened", opened)
        line_task = asyncio.create_task(lines.follow_changes(f)) if f.v3 else None
        try:
            try:
                return await self._procedure(f)
            except CaseWithdrawn as withdrawn:
                return await release(f, withdrawn.reason)
        finally:
            stop_escalations(f)
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

    # ------------------------------------------------------------------ signals & query

    @workflow.signal(name=SIGNAL_HOLDER_REPLY)
    def on_holder_reply(self, reply: HolderReply) -> None:
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

    @workflow.signal(name=SIGNAL_GUARANTEE)
    def on_guarantee(self, guarantee: GuaranteeInfo) -> None:
        if self.v1 is not None:
            self.v1.on_guarantee(guarantee)
            return
        f = self.file
        if not f.accepting_reply:
            f.log("guarantee_ignored", {"reference": guarantee.reference, "why": "reply window closed"})
            return
        take_guarantee(f, guarantee)

    @workflow.signal(name=SIGNAL_DETERMINATION)
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
        f.determination = determination
        f.log("customs_determined", determination.model_dump(mode="json", exclude_defaults=not f.v3))

    @workflow.signal(name=SIGNAL_COURT_NOTICE)
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

    @workflow.signal(name=SIGNAL_PARTY_SUBMISSION)
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

    @workflow.signal(name=SIGNAL_HEARING)
    def on_hearing(self, update: HearingUpdate) -> None:
        if self.v1 is not None:
            self.v1.on_hearing(update)
            return
        f = self.file
        if not f.hearing_open:
            f.log("hearing_update_ignored", {"kind": update.kind, "state": f.state})
            return
        f.hearing = update
        f.log("hearing_" + update.kind, update.model_dump(mode="json", exclude_none=True))

    @workflow.signal(name=SIGNAL_DISPOSAL_CHOICE)
    def on_disposal_choice(self, choice: DisposalChoice) -> None:
        if self.v1 is not None:
            self.v1.on_disposal_choice(choice)
            return
        f = self.file
        f.disposal_choice = choice
        f.log("disposal_facts_recorded", choice.model_dump(mode="json", exclude_none=True))

    @workflow.signal(name=SIGNAL_LINES)
    def on_lines(self, revision: LinesRevision) -> None:
        if self.v1 is not None:
            self.v1.on_ignored("lines_revision_ignored", {"revision": revision.revision})
            return
        lines.apply_revision(self.file, revision)

    @workflow.signal(name=SIGNAL_CALENDAR)
    def on_calendar(self, update: CalendarUpdate) -> None:
        if self.v1 is not None:
            return  # v1 counts on the calendar files of the worker
        retime(self.file, update)

    @workflow.signal(name=SIGNAL_PETITION_DECISION)
    def on_petition_decision(self, decision: PetitionDecision) -> None:
        f = self.file
        if self.v1 is not None or f.state != "seized" or f.petition_decision is not None \
                or not f.submitted("petition"):
            (self.v1.on_ignored if self.v1 is not None else f.log)(
                "petition_decision_ignored", {"outcome": decision.outcome, "state": f.state})
            return
        f.petition_decision = decision
        f.log("petition_decided", decision.model_dump(mode="json", exclude_none=True))

    @workflow.query(name=QUERY_STATE)
    def snapshot(self) -> CaseState:
        if self.v1 is not None:
            return self.v1.snapshot()
        return self.file.snapshot()
