"""The case workflow: the legal process of one suspected infringement on one declaration line.

One workflow type runs every procedure; the jurisdiction's rule pack (recorded in the
history when the case opens, so later rule changes never alter a running case) supplies
deadlines, guarantee and fine formulas, thresholds and the disposal order.

CN ex officio (Regulations on Customs Protection of IPR Art. 16-27)
    suspended (3 WD reply) -> no reply / no detention / no guarantee -> released
    -> detained (30 WD determination, 50 WD court notice) -> infringing -> [hearing] ->
       confiscated (fine by tier, police referral above threshold, disposal in legal order)
    -> not infringing -> released; cannot determine -> undetermined -> court notice or released at 50 WD
    patents: a consignee counter-guarantee equal to the goods value releases the goods
CN application mode: guarantee = goods value -> detained -> court notice within 20 WD or released
EU (Reg. 608/2013): ex officio -> application within 4 WD; holder confirms and agrees to destruction
    within 10 WD (3 perishable, +10 once), declarant's silence is deemed consent -> destroyed;
    proceedings -> handed_to_court; small consignments destroyed on the declarant's silence
US (19 CFR 133): detained -> importer's 7 business days -> disclosure to the mark owner ->
    seizure and forfeiture at 30 days, fine up to the genuine retail value (twice for repeats)

The workflow orchestrates; the step services act. Every step is an activity calling the
owning service with an idempotency key born here. Every deadline is a durable timer at the
end of its last day in the jurisdiction's calendar, and supervisors are alerted a set time
before it lapses. Cases started before this version run ``workflow_v1`` (see ``run``).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from temporalio import workflow
from temporalio.common import RetryPolicy

from services.cases.workflow_v1 import CaseWorkflowV1

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
        CaseEventRecord,
        CaseInput,
        CaseState,
        CourtNotice,
        Deadline,
        Determination,
        DisposalChoice,
        DispositionRequest,
        DispositionResult,
        GuaranteeInfo,
        HearingUpdate,
        HistoryEntry,
        HoldActionRequest,
        HolderReply,
        HoldResult,
        NoticeRequest,
        NoticeResult,
        PartySubmission,
        PlaceHoldRequest,
        RulesRequest,
        RuleSnapshot,
    )
    from shared.contracts.guarantees import (
        HoldGuaranteeRequest,
        HoldGuaranteeResult,
        SettleGuaranteeRequest,
        SettleGuaranteeResult,
    )
    from shared.rules import cn
    from shared.rules.calendar import WorkingCalendar, calendar_from_data
    from shared.rules.pack import RulePack

PATCH_V2 = "case-workflow-v2"
ACTIVITY_TIMEOUT = timedelta(seconds=30)
RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    non_retryable_error_types=["ServiceRejected"],
)
CENT = Decimal("0.01")


@workflow.defn(name=CASE_WORKFLOW_TYPE)
class CaseWorkflow(CaseWorkflowV1):
    @workflow.init
    def __init__(self, case: CaseInput) -> None:
        self.case = case
        self.state = "opened"
        self.history: list[HistoryEntry] = []
        self.recorded_upto = 0
        self.deadlines: dict[str, Deadline] = {}
        self.hold_id: str | None = None
        self.notice_ids: list[str] = []
        self.disposition: DispositionResult | None = None
        self.reply: HolderReply | None = None
        self.guarantee: GuaranteeInfo | None = None
        self.determination: Determination | None = None
        self.court_notice: CourtNotice | None = None
        self.accepting_reply = False
        value_cny = case.goods_value_cny if case.goods_value_cny is not None else (
            case.goods_value if case.currency == "CNY" else None)
        # v1 computed the guarantee from constants; v2 replaces it from the rule pack once loaded.
        self.required_guarantee_cny: Decimal | None = (
            cn.ex_officio_guarantee_cny(value_cny) if value_cny is not None and case.jurisdiction == "CN" else None
        )
        # ---- v2 state
        self.rules: RulePack | None = None
        self.cal: WorkingCalendar | None = None
        self.procedure: str | None = None
        self.required_guarantee: Decimal | None = None
        self.guarantee_status: str | None = None
        self.guarantee_held = False
        self.guarantee_attempts = 0
        self.submissions: list[PartySubmission] = []
        self.hearing: HearingUpdate | None = None
        self.hearing_open = False
        self.disposal_choice: DisposalChoice | None = None
        self.disposal_method: str | None = None
        self.police_referral = False
        self.counter_guaranteed = False
        self._escalations: dict[str, asyncio.Task] = {}

    # ------------------------------------------------------------------ run

    @workflow.run
    async def run(self, case: CaseInput) -> CaseState:
        if not workflow.patched(PATCH_V2):
            return await self._run_v1(case)
        snapshot: RuleSnapshot = await self._act("load_rules", RulesRequest(jurisdiction=case.jurisdiction),
                                                 RuleSnapshot)
        self.rules = RulePack.model_validate(snapshot.pack)
        self.cal = calendar_from_data(snapshot.calendar)
        self._log("case_opened", {
            "recordation_id": case.recordation_id, "mark": case.mark, "score": case.score, "reasons": case.reasons,
            "mode": case.mode, "rule_pack": self.rules.version, "opened_by": case.opened_by,
        })
        try:
            if case.jurisdiction == "CN":
                if case.mode == "application":
                    return await self._cn_application()
                return await self._cn_ex_officio()
            if case.jurisdiction == "EU":
                return await self._eu()
            if case.jurisdiction == "US":
                return await self._us()
            raise ValueError(f"no procedure for jurisdiction {case.jurisdiction}")
        finally:
            for task in self._escalations.values():
                task.cancel()

    # ------------------------------------------------------------------ CN

    def _value_in_pack_currency(self) -> Decimal | None:
        case, rules = self.case, self.rules
        assert rules is not None
        if case.currency == rules.currency:
            return case.goods_value
        if rules.currency == "CNY" and case.goods_value_cny is not None:
            return case.goods_value_cny
        return None

    async def _cn_ex_officio(self) -> CaseState:
        self.procedure = "cn_ex_officio"
        value = self._value_in_pack_currency()
        self.required_guarantee = self.rules.guarantee_amount("ex_officio", value) if value is not None else None
        self.required_guarantee_cny = self.required_guarantee
        await self._place_hold(f"suspected infringement of recorded right {self.case.recordation_id} "
                               f"({self.case.mark})")
        reply = self._open("holder_reply", workflow.now())
        self.accepting_reply = True
        notice = await self._notify("suspension", reply_allowed=True, reply_deadline_at=reply.due_at)
        await self._transition("suspended", "holder_notified", {
            "notice_id": notice.notice_id, "email": notice.email_status, "webhook": notice.webhook_status})

        settled = await self._secured_within(self._reply_settled, reply.due_at)
        self.accepting_reply = False
        if not settled or self.reply is None:
            self._close("holder_reply", "lapsed")
            if self.reply is None:
                return await self._release("no reply from the rights holder within 3 working days")
            return await self._release("detention requested but no sufficient guarantee was posted within "
                                       "3 working days")
        self._close("holder_reply", "met")
        if self.reply.decision == "no_detention":
            return await self._release("the rights holder stated that no detention is needed")
        return await self._cn_detained(mode="ex_officio")

    async def _cn_application(self) -> CaseState:
        """Application mode: the holder applied with evidence; detention needs a guarantee equal to the value."""
        self.procedure = "cn_application"
        value = self._value_in_pack_currency()
        self.required_guarantee = self.rules.guarantee_amount("application", value) if value is not None else None
        self.required_guarantee_cny = self.required_guarantee
        self._log("application_received", {"evidence": self.case.evidence, "by": self.case.opened_by})
        await self._place_hold(f"rights holder's application concerning right {self.case.recordation_id}")
        window = self._open("holder_reply", workflow.now())
        self.accepting_reply = True
        await self._notify("suspension", reply_allowed=True, reply_deadline_at=window.due_at)
        await self._transition("suspended", "application_accepted", {"required_guarantee": str(self.required_guarantee)})
        posted = await self._secured_within(lambda: self.guarantee is not None, window.due_at)
        self.accepting_reply = False
        if not posted:
            self._close("holder_reply", "lapsed")
            return await self._release("the applicant did not post the guarantee in time")
        self._close("holder_reply", "met")
        return await self._cn_detained(mode="application")

    async def _cn_detained(self, *, mode: str) -> CaseState:
        case = self.case
        await self._hold("detain", "rights holder requested detention and the guarantee is held")
        detained_at = workflow.now()
        determination = self._open("customs_determination", detained_at) if mode == "ex_officio" else None
        release = self._open("release_ex_officio" if mode == "ex_officio" else "release_application", detained_at)
        await self._transition("detained", "goods_detained", {
            "guarantee": self.guarantee.model_dump(mode="json") if self.guarantee else None,
            "patent_counter_guarantee_possible": case.right_type == "patent"})
        await self._notify("detention")

        if determination is not None:
            await self._wait_until(
                lambda: self.determination is not None or self.court_notice is not None or self.counter_guaranteed,
                determination.due_at)
            if self.counter_guaranteed:
                return await self._release("the consignee posted a counter-guarantee equal to the goods value")
            if self.court_notice is not None:
                self._close("customs_determination", "cancelled")
                return await self._act_on_court_notice(release.name)
            if self.determination is not None:
                self._close("customs_determination", "met")
                if self.determination.outcome == "infringing":
                    self._close(release.name, "cancelled")
                    return await self._cn_infringing()
                if self.determination.outcome == "not_infringing":
                    return await self._release("customs determined that the goods do not infringe")
            else:
                self._close("customs_determination", "lapsed")
            await self._transition("undetermined", "infringement_not_determined", {})
            await self._notify("cannot_determine")

        await self._wait_until(lambda: self.court_notice is not None or self.counter_guaranteed, release.due_at)
        if self.counter_guaranteed:
            return await self._release("the consignee posted a counter-guarantee equal to the goods value")
        if self.court_notice is not None:
            return await self._act_on_court_notice(release.name)
        self._close(release.name, "lapsed")
        days = self.rules.deadline(release.name).amount
        return await self._release(f"no court assistance notice within {days} working days of detention")

    async def _cn_infringing(self) -> CaseState:
        rules, det = self.rules, self.determination
        assert rules is not None and det is not None
        value = self._value_in_pack_currency() or self.case.goods_value
        tier_name = det.fine_tier or rules.fine.default_tier
        low, high = rules.fine_range(value, tier_name)
        tier = rules.fine.tiers[tier_name]
        fine = det.fine_amount if det.fine_amount is not None else ((low + high) / 2).quantize(CENT, ROUND_HALF_UP)
        fine = min(max(fine, low), high)
        if tier.max_exclusive and fine >= high and high > 0:
            fine = high - CENT
        self._log("penalty_proposed", {"tier": tier_name, "fine": str(fine), "range": [str(low), str(high)],
                                       "currency": rules.currency})

        threshold_name = ("hearing_fine_threshold_individual" if self.case.consignor_is_individual
                          else "hearing_fine_threshold_entity")
        if fine >= Decimal(str(rules.setting(threshold_name))):
            fine = await self._hearing(fine, low, high)

        if value >= Decimal(str(rules.setting("police_referral_goods_value"))):
            self.police_referral = True
            self._log("referred_to_police", {"goods_value": str(value), "currency": rules.currency,
                                             "threshold": str(rules.setting("police_referral_goods_value"))})
            await self._notify("police_referral")

        self.disposal_method = self._choose_disposal()
        await self._hold("confiscate", "customs determined infringement")
        await self._dispose("confiscation", "customs determined infringement", fine_amount=fine,
                            fine_value=value, currency=rules.currency)
        await self._notify("confiscation")
        return await self._finish("confiscated", "goods_confiscated", {
            "fine_amount": str(fine), "currency": rules.currency, "disposal_method": self.disposal_method,
            "police_referral": self.police_referral})

    async def _hearing(self, fine: Decimal, low: Decimal, high: Decimal) -> Decimal:
        """The party may ask for a hearing before a large fine (Penalty Regs Art. 49)."""
        rules = self.rules
        window = self._open("hearing_request", workflow.now(), amount=int(rules.setting("hearing_reply_working_days")),
                            basis="Penalty Regs Art. 49")
        self.hearing_open = True
        await self._transition("hearing", "hearing_right_notified", {"proposed_fine": str(fine)})
        await self._notify("hearing_right")
        await self._wait_until(lambda: self.hearing is not None, window.due_at)
        if self.hearing is None or self.hearing.kind == "waived":
            self._close("hearing_request", "lapsed" if self.hearing is None else "met")
            self.hearing_open = False
            return fine
        self._close("hearing_request", "met")
        if self.hearing.kind == "requested":
            conclusion = self._open("hearing_conclusion", workflow.now(), amount=30, basis="platform setting")
            await self._wait_until(lambda: self.hearing is not None and self.hearing.kind == "concluded",
                                   conclusion.due_at)
            self._close("hearing_conclusion", "met" if self.hearing.kind == "concluded" else "lapsed")
        self.hearing_open = False
        if self.hearing.kind == "concluded" and self.hearing.fine_amount is not None:
            return min(max(self.hearing.fine_amount, low), high)
        return fine

    def _choose_disposal(self) -> str:
        """First lawful option in the pack's order (CN Reg. Art. 27) for the facts the officers recorded."""
        rules, choice = self.rules, self.disposal_choice or DisposalChoice()
        for option in rules.disposal_order:
            if option == "public_welfare" and choice.usable_for_public_welfare:
                return option
            if option == "sale_to_holder" and choice.holder_buys:
                return option
            if option == "auction_after_removal" and choice.infringing_features_removable and (
                    self.case.right_type != "trademark" or rules.setting("auction_allowed_for_counterfeit_trademarks")):
                return option
            if option in ("destruction", "forfeiture_destruction"):
                return option
        return rules.disposal_order[-1]

    async def _act_on_court_notice(self, release_deadline: str) -> CaseState:
        notice = self.court_notice
        assert notice is not None
        self._close(release_deadline, "met")
        if notice.action == "release":
            return await self._release(f"court assistance notice {notice.reference} orders release")
        await self._hold("hand_to_court", f"court assistance notice {notice.reference} of {notice.court}")
        await self._dispose("handed_to_court", f"court assistance notice {notice.reference}")
        await self._notify("court_handover")
        return await self._finish("handed_to_court", "goods_handed_to_court", {"reference": notice.reference})

    # ------------------------------------------------------------------ EU

    def _is_small_consignment(self) -> bool:
        case, rules = self.case, self.rules
        if case.transport_mode not in ("post", "express"):
            return False
        units = case.quantity <= Decimal(str(rules.setting("small_consignment_max_units")))
        light = case.gross_weight_kg is not None and case.gross_weight_kg < Decimal(
            str(rules.setting("small_consignment_max_gross_kg")))
        return units or light

    def _submitted(self, kind: str, party: str | None = None) -> bool:
        return any(s.kind == kind and (party is None or s.party == party) for s in self.submissions)

    async def _eu(self) -> CaseState:
        case = self.case
        small = self._is_small_consignment() and case.small_consignment_opt_in
        self.procedure = "eu_small_consignment" if small and case.application_id else (
            "eu_ex_officio" if not case.application_id else "eu_application")
        await self._place_hold(f"suspected infringement of right {case.recordation_id} ({case.mark})")
        await self._hold("detain", "release suspended / goods detained under Regulation (EU) No 608/2013")
        if not case.application_id:
            window = self._open("afa_after_ex_officio", workflow.now())
            await self._transition("awaiting_application", "goods_detained_ex_officio", {})
            await self._notify("application_needed", reply_deadline_at=window.due_at)
            filed = await self._wait_until(lambda: self._submitted("application_for_action"), window.due_at)
            if not filed:
                self._close(window.name, "lapsed")
                return await self._release("no application for action within 4 working days")
            self._close(window.name, "met")
        if small and case.application_id:
            return await self._eu_small_consignment()
        return await self._eu_standard()

    async def _eu_small_consignment(self) -> CaseState:
        window = self._open("small_consignment_declarant", workflow.now())
        await self._transition("detained", "small_consignment_procedure", {"units": str(self.case.quantity)})
        objected = await self._wait_until(lambda: self._submitted("objects_to_destruction") or
                                          self._submitted("agrees_to_destruction"), window.due_at)
        if objected and self._submitted("objects_to_destruction"):
            self._close(window.name, "met")
            proceedings = self._open("small_consignment_holder_proceedings", workflow.now())
            await self._notify("declarant_objected", reply_deadline_at=proceedings.due_at)
            started = await self._wait_until(lambda: self._submitted("proceedings_started"), proceedings.due_at)
            if not started:
                self._close(proceedings.name, "lapsed")
                return await self._release("the declarant objected and no proceedings were started in time")
            self._close(proceedings.name, "met")
            return await self._to_court("the rights holder started proceedings")
        self._close(window.name, "met" if objected else "lapsed")
        how = "the declarant agreed" if objected else "the declarant did not object within 10 working days"
        return await self._destroy(f"small consignment destroyed: {how}")

    async def _eu_standard(self) -> CaseState:
        case, rules = self.case, self.rules
        name = "confirm_and_agree_perishable" if case.perishable else "confirm_and_agree"
        window = self._open(name, workflow.now())
        await self._transition("detained", "holder_and_declarant_notified", {"perishable": case.perishable})
        await self._notify("confirmation_needed", reply_deadline_at=window.due_at)
        extended = False
        while True:
            await self._wait_until(lambda: self._submitted("confirms_infringement") or
                                   self._submitted("proceedings_started") or
                                   (not extended and not case.perishable and self._submitted("extension_request")),
                                   window.due_at)
            if not extended and not case.perishable and self._submitted("extension_request") and not (
                    self._submitted("confirms_infringement") or self._submitted("proceedings_started")):
                extended = True
                self._close(window.name, "cancelled")
                window = self._open("extension", workflow.now(), start_day=window.due_date)
                self._log("deadline_extended", {"until": window.due_date.isoformat()})
                continue
            break
        if self._submitted("proceedings_started"):
            self._close(window.name, "met")
            return await self._to_court("the rights holder started proceedings")
        if not self._submitted("confirms_infringement"):
            self._close(window.name, "lapsed")
            return await self._release("the rights holder neither confirmed infringement nor started proceedings")
        # Holder confirmed and agreed to destruction: the declarant's agreement, or silence if deemed consent.
        await self._wait_until(lambda: self._submitted("objects_to_destruction") or
                               self._submitted("agrees_to_destruction"), window.due_at)
        if self._submitted("objects_to_destruction"):
            self._log("declarant_objected", {})
            await self._notify("declarant_objected", reply_deadline_at=window.due_at)
            started = await self._wait_until(lambda: self._submitted("proceedings_started"), window.due_at)
            self._close(window.name, "met" if started else "lapsed")
            if started:
                return await self._to_court("the declarant objected; the rights holder started proceedings")
            return await self._release("the declarant objected and no proceedings were started in time")
        self._close(window.name, "met")
        if self._submitted("agrees_to_destruction"):
            return await self._destroy("the holder confirmed infringement and the declarant agreed to destruction")
        if rules.setting("deemed_consent"):
            return await self._destroy("the holder confirmed infringement; the declarant's silence is deemed consent")
        return await self._release("the declarant did not agree to destruction and consent is not deemed")

    async def _destroy(self, reason: str) -> CaseState:
        self.disposal_method = "destruction"
        await self._hold("destroy", reason)
        await self._dispose("destruction", reason)
        await self._notify("destruction", extra=reason)
        return await self._finish("destroyed", "goods_destroyed", {"reason": reason})

    async def _to_court(self, reason: str) -> CaseState:
        await self._hold("hand_to_court", reason)
        await self._dispose("handed_to_court", reason)
        await self._notify("court_handover")
        return await self._finish("handed_to_court", "goods_handed_to_court", {"reason": reason})

    # ------------------------------------------------------------------ US

    async def _us(self) -> CaseState:
        case, rules = self.case, self.rules
        self.procedure = "us_detention"
        presented_at = case.opened_at or workflow.now()
        await self._place_hold(f"suspected counterfeit of recorded mark {case.recordation_id} ({case.mark})")
        notice_dl = self._open("detention_notice", workflow.now())
        await self._hold("detain", "notice of detention: the importer may within 7 business days show that the "
                                   "goods are not counterfeit (19 CFR 133.21)")
        self._close(notice_dl.name, "met")
        response = self._open("importer_response", workflow.now())
        seizure = self._open("seizure", presented_at)
        await self._transition("detained", "detention_notice_issued", {"to": case.consignee.name})
        await self._notify("detention")  # limited importation information to the mark owner
        await self._wait_until(lambda: self._submitted("importer_response") or self.determination is not None,
                               response.due_at)
        if self._submitted("importer_response"):
            self._close(response.name, "met")
        else:
            self._close(response.name, "lapsed")
            self._log("disclosure_to_mark_owner", {"why": "no importer response within 7 business days"})
            await self._notify("disclosure")
        await self._wait_until(lambda: self.determination is not None, seizure.due_at)
        if self.determination is not None and self.determination.outcome == "not_infringing":
            return await self._release("CBP determined that the goods are not counterfeit")
        self._close(seizure.name, "met" if self.determination is not None else "lapsed")
        retail = self.determination.retail_value if self.determination and self.determination.retail_value \
            else (case.genuine_unit_value * case.quantity if case.genuine_unit_value is not None else case.goods_value)
        _, cap = rules.fine_range(retail, None, repeat=case.repeat_infringer)
        fine = self.determination.fine_amount if self.determination and self.determination.fine_amount is not None \
            else Decimal("0.00")
        fine = min(fine, cap)
        self.disposal_method = rules.disposal_order[0]
        self._log("seized", {"retail_value": str(retail), "fine_cap": str(cap), "repeat": case.repeat_infringer})
        await self._hold("forfeit", "seized as counterfeit and forfeited (19 U.S.C. 1526(e))")
        await self._dispose("forfeiture", "seized as counterfeit", fine_amount=fine, fine_value=retail,
                            currency=case.currency)
        await self._notify("forfeiture")
        return await self._finish("forfeited", "goods_forfeited", {"fine_amount": str(fine), "fine_cap": str(cap)})

    # ------------------------------------------------------------------ shared steps

    async def _place_hold(self, reason: str) -> None:
        case = self.case
        hold: HoldResult = await self._act("place_hold", PlaceHoldRequest(
            idempotency_key=f"{case.case_id}:hold", case_id=case.case_id, declaration_id=case.declaration_id,
            line_no=case.line_no, customs_office=case.customs_office, reason=reason), HoldResult)
        self.hold_id = hold.hold_id

    async def _hold(self, action: str, reason: str) -> None:
        officer = self.determination.officer if self.determination and action != "detain" else None
        await self._act("hold_action", HoldActionRequest(
            idempotency_key=f"{self.case.case_id}:{action}", hold_id=self.hold_id, action=action, reason=reason,
            on_behalf_of=officer), HoldResult)

    async def _secured_within(self, settled, due_at: datetime) -> bool:  # noqa: ANN001
        """Wait until ``settled`` before the deadline with the guarantee held by the ledger. A guarantee the
        ledger refuses (e.g. a general guarantee without enough balance) may be replaced until the deadline."""
        while True:
            if not await self._wait_until(settled, due_at):
                return False
            if self.reply is not None and self.reply.decision == "no_detention":
                return True
            if await self._secure_guarantee():
                return True
            self.guarantee = None
            await self._notify("guarantee_refused", reply_deadline_at=due_at,
                               key=f"guarantee_refused:{self.guarantee_attempts}")

    async def _secure_guarantee(self) -> bool:
        """Have the guarantees service hold the guarantee (or draw it from a general guarantee)."""
        if not self.rules.guarantee.required or self.guarantee is None:
            return True
        g, case = self.guarantee, self.case
        self.guarantee_attempts += 1
        result: HoldGuaranteeResult = await self._act("hold_guarantee", HoldGuaranteeRequest(
            idempotency_key=f"{case.case_id}:guarantee:{self.guarantee_attempts}", case_id=case.case_id,
            holder_id=case.holder.id,
            jurisdiction=case.jurisdiction, required_amount=self.required_guarantee or Decimal(0),
            currency=self.rules.currency, form=g.form, amount=g.amount, reference=g.reference), HoldGuaranteeResult)
        self.guarantee_status = result.status
        self.guarantee_held = result.status == "held"
        self._log("guarantee_" + result.status, result.model_dump(mode="json"))
        return self.guarantee_held

    async def _release(self, reason: str) -> CaseState:
        for name, deadline in self.deadlines.items():
            if deadline.status == "pending":
                self._close(name, "cancelled")
        await self._hold("release", reason)
        await self._dispose("release", reason)
        await self._notify("release", extra=reason)
        return await self._finish("released", "goods_released", {"reason": reason})

    async def _dispose(self, outcome: str, reason: str, *, fine_amount: Decimal | None = None,
                       fine_value: Decimal | None = None, currency: str | None = None) -> None:
        case = self.case
        det = self.determination
        self.disposition = await self._act("record_disposition", DispositionRequest(
            idempotency_key=f"{case.case_id}:disposition", case_id=case.case_id, jurisdiction=case.jurisdiction,
            outcome=outcome, goods_value=fine_value if fine_value is not None else case.goods_value,
            currency=currency or case.currency, right_type=case.right_type,
            fine_tier=det.fine_tier if det else None, reason=reason,
            fine_amount=fine_amount if fine_amount is not None else Decimal(0), repeat=case.repeat_infringer,
            disposal_method=self.disposal_method,
            hearing=self.hearing.kind if self.hearing else None, police_referral=self.police_referral,
            decided_by=det.officer if det else None), DispositionResult)

    async def _finish(self, state: str, event: str, detail: dict) -> CaseState:
        if self.guarantee_held:
            settled: SettleGuaranteeResult = await self._act("settle_guarantee", SettleGuaranteeRequest(
                idempotency_key=f"{self.case.case_id}:settle", case_id=self.case.case_id, outcome=state,
                ended_at=workflow.now()), SettleGuaranteeResult)
            self.guarantee_status = "settled"
            self._log("guarantee_settled", settled.model_dump(mode="json"))
        await self._transition(state, event, detail)
        # Signals that arrive while the last steps run are still recorded before the case closes.
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._flush()
        return self.snapshot()

    # ------------------------------------------------------------------ signals & query

    @workflow.signal(name=SIGNAL_HOLDER_REPLY)
    def on_holder_reply(self, reply: HolderReply) -> None:
        if not self.accepting_reply or self.reply is not None:
            self._log("reply_ignored", {"decision": reply.decision,
                                        "why": "reply window closed" if not self.accepting_reply else "already replied"})
            return
        self.reply = reply
        if reply.guarantee is not None:
            self._take_guarantee(reply.guarantee)
        self._log("holder_replied", {"decision": reply.decision, "by": reply.replied_by,
                                     "notice_id": reply.notice_id})

    @workflow.signal(name=SIGNAL_GUARANTEE)
    def on_guarantee(self, guarantee: GuaranteeInfo) -> None:
        if not self.accepting_reply:
            self._log("guarantee_ignored", {"reference": guarantee.reference, "why": "reply window closed"})
            return
        self._take_guarantee(guarantee)

    @workflow.signal(name=SIGNAL_DETERMINATION)
    def on_determination(self, determination: Determination) -> None:
        if self.state != "detained" or self.determination is not None:
            self._log("determination_ignored", {"outcome": determination.outcome, "state": self.state})
            return
        self.determination = determination
        self._log("customs_determined", determination.model_dump(mode="json"))

    @workflow.signal(name=SIGNAL_COURT_NOTICE)
    def on_court_notice(self, notice: CourtNotice) -> None:
        if self.state not in ("detained", "undetermined") or self.court_notice is not None:
            self._log("court_notice_ignored", {"reference": notice.reference, "state": self.state})
            return
        self.court_notice = notice
        self._log("court_notice_received", notice.model_dump(mode="json"))

    @workflow.signal(name=SIGNAL_PARTY_SUBMISSION)
    def on_party_submission(self, submission: PartySubmission) -> None:
        if self.state in ("released", "confiscated", "destroyed", "forfeited", "handed_to_court"):
            self._log("submission_ignored", {"kind": submission.kind, "state": self.state})
            return
        self.submissions.append(submission)
        detail = submission.model_dump(mode="json", exclude_none=True)
        if submission.kind == "counter_guarantee":
            ok = self._counter_guarantee_ok(submission)
            self.counter_guaranteed = self.counter_guaranteed or ok
            detail["accepted"] = ok
        self._log("party_submission", detail)

    @workflow.signal(name=SIGNAL_HEARING)
    def on_hearing(self, update: HearingUpdate) -> None:
        if not self.hearing_open:
            self._log("hearing_update_ignored", {"kind": update.kind, "state": self.state})
            return
        self.hearing = update
        self._log("hearing_" + update.kind, update.model_dump(mode="json", exclude_none=True))

    @workflow.signal(name=SIGNAL_DISPOSAL_CHOICE)
    def on_disposal_choice(self, choice: DisposalChoice) -> None:
        self.disposal_choice = choice
        self._log("disposal_facts_recorded", choice.model_dump(mode="json", exclude_none=True))

    @workflow.query(name=QUERY_STATE)
    def snapshot(self) -> CaseState:
        case = self.case
        return CaseState(
            case_id=case.case_id, state=self.state, jurisdiction=case.jurisdiction, holder_id=case.holder.id,
            declaration_id=case.declaration_id, line_no=case.line_no, goods_value=case.goods_value,
            currency=case.currency, required_guarantee_cny=self.required_guarantee_cny, hold_id=self.hold_id,
            notice_ids=list(self.notice_ids),
            disposition_id=self.disposition.disposition_id if self.disposition else None,
            fine_amount=self.disposition.fine_amount if self.disposition else None,
            deadlines=list(self.deadlines.values()), history=list(self.history),
            procedure=self.procedure, rule_pack_version=self.rules.version if self.rules else None,
            required_guarantee=self.required_guarantee,
            guarantee_currency=self.rules.currency if self.rules else None,
            guarantee_status=self.guarantee_status, disposal_method=self.disposal_method,
            police_referral=self.police_referral, submissions=list(self.submissions),
            fine_currency=self.disposition.fine_currency if self.disposition else None,
            timezone=self.cal.timezone if self.cal else None,
            customs_office=case.customs_office,
            party_ids=[p.id for p in (case.declarant, case.consignor, case.consignee) if p is not None],
        )

    # ------------------------------------------------------------------ helpers

    def _counter_guarantee_ok(self, s: PartySubmission) -> bool:
        if self.case.right_type != "patent" or self.rules is None or s.amount is None:
            return False
        value = self._value_in_pack_currency()
        if value is None or (s.currency or self.rules.currency) != self.rules.currency:
            return False
        return s.amount >= self.rules.guarantee_amount("counter_guarantee", value)

    def _take_guarantee(self, guarantee: GuaranteeInfo) -> None:
        ok = self._sufficient(guarantee)
        if ok:
            self.guarantee = guarantee
        self._log("guarantee_received" if ok else "guarantee_insufficient", {
            **guarantee.model_dump(mode="json"),
            "required_cny": str(self.required_guarantee_cny) if self.required_guarantee_cny is not None else None,
        })

    def _sufficient(self, guarantee: GuaranteeInfo) -> bool:
        if guarantee.form == "general_guarantee":
            return True  # the guarantees service checks the balance when it draws the amount
        if self.required_guarantee_cny is None:
            return True  # goods value unknown in RMB: the officer checks the guarantee
        return guarantee.currency == "CNY" and guarantee.amount >= self.required_guarantee_cny

    def _reply_settled(self) -> bool:
        if self.reply is None:
            return False
        return self.reply.decision == "no_detention" or self.guarantee is not None

    async def _wait_until(self, condition, due_at: datetime) -> bool:  # noqa: ANN001
        """Wait for ``condition`` until the deadline instant; False if the deadline passed first."""
        await self._flush()
        if condition():
            return True
        remaining = due_at - workflow.now()
        if remaining <= timedelta(0):
            return False
        try:
            await workflow.wait_condition(condition, timeout=remaining)
            return True
        except asyncio.TimeoutError:
            return condition()

    def _open(self, name: str, start: datetime, *, amount: int | None = None, basis: str | None = None,
              start_day=None) -> Deadline:  # noqa: ANN001
        """Open a deadline of the rule pack (or ``amount`` working days) and arm its escalation timer."""
        cal, rules = self.cal, self.rules
        assert cal is not None and rules is not None
        rule = rules.deadlines.get(name)
        unit = rule.unit if rule is not None and amount is None else "working_days"
        n = amount if amount is not None else rule.amount  # type: ignore[union-attr]
        first = start_day if start_day is not None else cal.local_date(start)
        due = cal.add_working_days(first, n) if unit == "working_days" else first + timedelta(days=n)
        due_at = cal.end_of_day(due)
        lead = rules.deadlines.get("escalation_lead")
        escalate_at = None
        if lead is not None:
            day = due
            for _ in range(lead.amount):
                day = cal.previous_working_day(day)
            escalate_at = cal.end_of_day(day)
        deadline = Deadline(name=name, working_days=n, start=first, due_date=due, due_at=due_at, unit=unit,
                            basis=basis or (rule.basis if rule else None), escalate_at=escalate_at)
        self.deadlines[name] = deadline
        self._log("deadline_set", {"name": name, unit: n, "due_date": due.isoformat(), "due_at": due_at.isoformat(),
                                   "escalate_at": escalate_at.isoformat() if escalate_at else None})
        if escalate_at is not None and escalate_at > workflow.now():
            old = self._escalations.pop(name, None)
            if old is not None:
                old.cancel()
            self._escalations[name] = asyncio.create_task(self._escalate_when_due(name, escalate_at))
        return deadline

    async def _escalate_when_due(self, name: str, at: datetime) -> None:
        await workflow.sleep(at - workflow.now())
        deadline = self.deadlines.get(name)
        if deadline is None or deadline.status != "pending" or deadline.escalate_at != at:
            return
        self.deadlines[name] = deadline.model_copy(update={"escalated": True})
        self._log("deadline_escalated", {"name": name, "due_at": deadline.due_at.isoformat(),
                                         "state": self.state})
        await self._flush()

    def _close(self, name: str, status: str) -> None:
        deadline = self.deadlines.get(name)
        if deadline is not None and deadline.status == "pending":
            self.deadlines[name] = deadline.model_copy(update={"status": status})
            self._log("deadline_" + status, {"name": name})
            task = self._escalations.pop(name, None)
            if task is not None:
                task.cancel()

    def _log(self, event: str, detail: dict) -> None:
        self.history.append(HistoryEntry(seq=len(self.history) + 1, at=workflow.now(), state=self.state,
                                         event=event, detail=detail))

    async def _transition(self, state: str, event: str, detail: dict) -> None:
        self.state = state
        self._log(event, detail)
        await self._flush()

    async def _flush(self) -> None:
        """Write history entries not yet recorded to the case audit trail (and cases.events.v1)."""
        pending = self.history[self.recorded_upto:]
        if not pending:
            return
        self.recorded_upto = len(self.history)
        await workflow.execute_activity(
            "record_case_events",
            [CaseEventRecord(case_id=self.case.case_id, seq=h.seq, at=h.at, state=h.state, event=h.event,
                             detail=h.detail, case_input=self.case) for h in pending],
            start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=RETRY,
        )

    async def _notify(self, kind: str, *, reply_allowed: bool = False, reply_deadline_at: datetime | None = None,
                      extra: str | None = None, key: str | None = None) -> NoticeResult:
        case = self.case
        subject, body = notice_text(kind, self, reply_deadline_at, extra)
        result = await self._act("send_notice", NoticeRequest(
            idempotency_key=f"{case.case_id}:notice:{key or kind}", case_id=case.case_id, kind=kind, holder=case.holder,
            subject=subject, body=body, reply_deadline_at=reply_deadline_at, reply_allowed=reply_allowed),
            NoticeResult)
        self.notice_ids.append(result.notice_id)
        self._log("notice_sent", {"kind": kind, "notice_id": result.notice_id, "email": result.email_status,
                                  "webhook": result.webhook_status})
        return result

    async def _act(self, activity: str, request, result_type):  # noqa: ANN001, ANN202
        return await workflow.execute_activity(
            activity, request, result_type=result_type, start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=RETRY,
        )


def notice_text(kind: str, wf: CaseWorkflow, deadline: datetime | None, extra: str | None) -> tuple[str, str]:
    """Subject and body of a written notice to the rights holder."""
    case, cal = wf.case, wf.cal
    goods = (f"declaration {case.declaration_id} line {case.line_no}: {case.description} "
             f"(HS {case.hs_code}, {case.quantity} {case.unit}, value {case.goods_value} {case.currency})")
    head = f"Case {case.case_id} - right {case.recordation_id} ({case.mark})"
    when = "-"
    if deadline is not None and cal is not None:
        last_day = cal.local_date(deadline - timedelta(seconds=1))
        when = f"the end of {last_day.isoformat()} ({cal.timezone} time; {deadline.isoformat()})"
    if kind == "suspension":
        amount = (f"{wf.rules.currency} {wf.required_guarantee}" if wf.required_guarantee is not None
                  else "an amount set by customs")
        if case.mode == "application":
            return (f"[Customs IPR] Application accepted - post the guarantee by {when}",
                    f"{head}\n\nYour application concerning {goods} is accepted. Release is suspended. Post a "
                    f"guarantee of {amount} (equal to the goods value) by {when}; otherwise the goods are released.")
        return (f"[Customs IPR] Suspension of release - reply by {when}",
                f"{head}\n\nCustoms ({case.customs_office}) has suspended release of goods suspected of infringing "
                f"your recorded right: {goods}.\nConsignor: {case.consignor.name}; consignee: {case.consignee.name}."
                f"\n\nBy {when} either request detention and post a guarantee of {amount}, or state that no "
                f"detention is needed. Without a reply the goods are released.")
    texts = {
        "detention": ("Goods detained", "The goods are detained."),
        "cannot_determine": ("Infringement could not be determined",
                             "Customs could not determine infringement. The goods will be released at the end of "
                             "the time limit unless a court assistance notice is received."),
        "confiscation": ("Goods confiscated", f"Customs determined infringement; the goods are confiscated. Disposal: "
                                              f"{wf.disposal_method}."),
        "release": ("Goods released", f"The goods are released. Reason: {extra}."),
        "court_handover": ("Goods held for the court", "The goods are held for the court proceedings."),
        "application_needed": ("Goods detained ex officio - application for action needed",
                               f"Goods suspected of infringing your right are detained. File an application for "
                               f"action by {when}; otherwise the goods are released."),
        "confirmation_needed": ("Goods detained - confirm infringement",
                                f"By {when} confirm in writing that the goods infringe your right and agree to their "
                                f"destruction, or start proceedings; otherwise the goods are released."),
        "declarant_objected": ("Declarant objects to destruction",
                               f"The declarant objects to destruction. Start proceedings by {when}; otherwise the "
                               f"goods are released."),
        "hearing_right": ("Penalty proposed - hearing right", "A fine above the hearing threshold is proposed; "
                                                              "the party has been told of its right to a hearing."),
        "police_referral": ("Case referred to the police", "The goods value exceeds the threshold for a suspected "
                                                           "crime; the case is referred to the police."),
        "disclosure": ("Disclosure of importation information",
                       f"The importer did not show the goods are genuine. Importation details: {goods}; consignor "
                       f"{case.consignor.name}; consignee {case.consignee.name}."),
        "destruction": ("Goods destroyed", f"The goods are destroyed. {extra or ''}"),
        "forfeiture": ("Goods seized and forfeited", "The goods are seized as counterfeit and forfeited."),
        "guarantee_refused": ("Guarantee refused - post another",
                              f"The guarantee could not be secured ({wf.guarantee_status}). Post another guarantee "
                              f"(POST /v1/cases/{case.case_id}/guarantee, or hand it to customs) by {when}; "
                              f"otherwise the goods are released."),
    }
    title, text = texts[kind]
    return f"[Customs IPR] {title} - {case.case_id}", f"{head}\n\n{text}\n\nGoods: {goods}."
