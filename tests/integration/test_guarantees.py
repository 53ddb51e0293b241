"""The guarantees service against the real stack: general guarantees and their balance, per-case guarantees,
draws until the balance runs out, costs, settlement and refund, alerts, idempotency and who may see what."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from shared.rules.calendar import calendar_for
from tests.factories import example_recordation
from tests.helpers import eventually, unique_id

pytestmark = pytest.mark.integration

D = Decimal


def cn_today() -> date:
    return calendar_for("CN").local_date(datetime.now(UTC))


def general_body(holder_id: str, **over) -> dict:
    today = cn_today()
    body = {
        "guarantee_id": unique_id("GG"),
        "holder_id": holder_id,
        "jurisdiction": "CN",
        "amount": "200000.00",
        "currency": "CNY",
        "coverage_from": (today - timedelta(days=30)).isoformat(),
        "coverage_until": (today + timedelta(days=200)).isoformat(),
        "letter_expires_on": (today + timedelta(days=380)).isoformat(),
        "issuer": "Bank of China, Shanghai Branch",
        "reference": unique_id("BOC-LG"),
    }
    body.update(over)
    return body


def hold_body(
    holder_id: str,
    *,
    form: str = "cash_deposit",
    required: str = "20000.00",
    amount: str = "20000.00",
    case_id: str | None = None,
    key: str | None = None,
) -> dict:
    case_id = case_id or unique_id("IPR-CASE")
    return {
        "idempotency_key": key or f"{case_id}:guarantee",
        "case_id": case_id,
        "holder_id": holder_id,
        "jurisdiction": "CN",
        "required_amount": required,
        "currency": "CNY",
        "form": form,
        "amount": amount,
        "reference": unique_id("REF"),
    }


class Api:
    def __init__(self, http, stack) -> None:
        self.http, self.stack = http, stack
        self.base = stack.url("guarantees")
        self.recorded: set[str] = set()

    async def register(self, body: dict, who: str = "officer", *, recorded: bool = True):
        """Register a general guarantee; its holder first gets a recordation (a guarantee's holder must have one)."""
        if recorded and body.get("jurisdiction") == "CN" and body.get("holder_id") not in self.recorded:
            await self.record(body["holder_id"])
        return await self.http.post(f"{self.base}/v1/general-guarantees", json=body, headers=self.stack.auth(who))

    async def record(self, holder_id: str) -> None:
        r = await self.http.post(
            f"{self.stack.url('risk')}/v1/recordations",
            headers=self.stack.auth("officer"),
            json=example_recordation(  # a mark no declaration of the other tests names
                recordation_id=unique_id("CN-T-GG"),
                title=unique_id("GGMARK"),
                aliases=[],
                registration_number=unique_id("R"),
                goods_hs_prefixes=["9701"],
                authorized_licensees=[],
                genuine_unit_value=[],
                holder={
                    "id": holder_id,
                    "name": f"Holder {holder_id}",
                    "contact_email": "guarantees@holder.example.com",
                },
            ),
        )
        assert r.status_code in (200, 201), r.text
        self.recorded.add(holder_id)

    async def general(self, guarantee_id: str, who: str = "officer"):
        return await self.http.get(f"{self.base}/v1/general-guarantees/{guarantee_id}", headers=self.stack.auth(who))

    async def hold(self, body: dict, who: str = "system"):
        return await self.http.post(f"{self.base}/v1/case-guarantees", json=body, headers=self.stack.auth(who))

    async def cost(self, case_id: str, body: dict, who: str = "system"):
        return await self.http.post(
            f"{self.base}/v1/case-guarantees/{case_id}/costs", json=body, headers=self.stack.auth(who)
        )

    async def settle(self, case_id: str, body: dict, who: str = "system"):
        return await self.http.post(
            f"{self.base}/v1/case-guarantees/{case_id}/settle", json=body, headers=self.stack.auth(who)
        )

    async def case(self, case_id: str, who: str = "officer"):
        return await self.http.get(f"{self.base}/v1/case-guarantees/{case_id}", headers=self.stack.auth(who))

    async def alerts(self, who: str = "officer"):
        return await self.http.get(f"{self.base}/v1/alerts", headers=self.stack.auth(who))


@pytest.fixture
def api(http, stack) -> Api:
    return Api(http, stack)


def error_code(response) -> str:
    return response.json()["error"]["code"]


# ---------------------------------------------------------------- general guarantees


async def test_register_general_guarantee_validates_and_is_idempotent(api: Api, stack) -> None:
    holder = unique_id("RH")
    body = general_body(holder)
    first = await api.register(body)
    assert first.status_code == 201, first.text
    view = first.json()
    assert view["balance"] == view["amount"] == "200000.00" and view["registered_by"] == "Wang Wei (wang.wei)"
    replay = await api.register(body)
    assert replay.status_code == 200 and replay.json() == view
    changed = await api.register({**body, "amount": "300000"})
    assert changed.status_code == 409 and error_code(changed) == "idempotency_conflict"

    today = cn_today()
    bad = [
        ({"coverage_until": (today - timedelta(days=31)).isoformat()}, "coverage_period_invalid"),
        ({"letter_expires_on": (today + timedelta(days=199)).isoformat()}, "letter_expires_before_coverage_ends"),
        ({"amount": "199999.99"}, "amount_below_minimum"),
        ({"currency": "USD", "amount": "500000"}, "currency_not_allowed"),
        ({"jurisdiction": "XX"}, "unknown_jurisdiction"),
        ({"amount": "-1"}, "schema_violation"),
    ]
    for over, code in bad:
        refused = await api.register(general_body(holder, **over))
        assert refused.status_code == 422, (over, refused.text)
        assert error_code(refused) == code, (over, refused.text)
    # a holder with no recordation in the jurisdiction gets no general guarantee
    stranger = await api.register(general_body(unique_id("RH-NONE")), recorded=False)
    assert stranger.status_code == 422 and error_code(stranger) == "unknown_holder", stranger.text
    minimum = await api.register(general_body(holder, amount="200000"))
    assert minimum.status_code == 201  # the minimum itself is enough

    got = (await api.general(body["guarantee_id"])).json()
    assert got["draws"] == [] and [h["action"] for h in got["history"]] == ["registered"]
    assert got["history"][0]["actor"] == "Wang Wei (wang.wei)"
    listed = (
        await api.http.get(f"{api.base}/v1/general-guarantees?holder_id={holder}", headers=stack.auth("officer"))
    ).json()
    assert {g["guarantee_id"] for g in listed} == {body["guarantee_id"], minimum.json()["guarantee_id"]}


# ---------------------------------------------------------------- per-case guarantees


async def test_per_case_deposit_or_letter_sufficient_and_insufficient(api: Api) -> None:
    holder = unique_id("RH")
    short = hold_body(holder, form="bank_letter", required="14910.00", amount="14000")
    refused = await api.hold(short)
    assert refused.status_code == 200, refused.text
    assert refused.json()["status"] == "refused" and refused.json()["amount"] == "0.00"
    assert refused.json()["reason"] == "posted 14000.00 CNY is below the required 14910.00 CNY"
    assert (await api.hold(short)).json() == refused.json()  # replay

    case_id = short["case_id"]
    enough = {**short, "idempotency_key": f"{case_id}:second", "amount": "15000.00"}
    held = await api.hold(enough)
    assert held.status_code == 201, held.text
    assert held.json() == {
        "case_guarantee_id": f"CG-{case_id}",
        "status": "held",
        "amount": "15000.00",
        "currency": "CNY",
        "drawn_from": None,
        "reason": None,
    }
    assert (await api.hold(enough)).json() == held.json()
    conflict = await api.hold({**enough, "amount": "16000.00"})
    assert conflict.status_code == 409 and error_code(conflict) == "idempotency_conflict"
    # one guarantee per case: another key for the same case gets the one already held
    third = await api.hold({**enough, "idempotency_key": f"{case_id}:third", "form": "cash_deposit", "amount": "99999"})
    assert third.status_code == 200 and third.json() == held.json()

    view = (await api.case(case_id)).json()
    assert view["status"] == "held" and view["amount"] == "15000.00" and view["form"] == "bank_letter"
    assert [r["code"] for r in view["refusals"]] == ["amount_below_required"]
    assert [h["action"] for h in view["history"]] == ["refused", "held"]
    assert {h["actor"] for h in view["history"]} == {"IPR case worker (case-worker)"}

    cash = await api.hold(hold_body(holder, form="cash_deposit", required="20000", amount="20000"), who="officer")
    assert cash.status_code == 201 and cash.json()["status"] == "held"


async def test_draws_on_the_general_guarantee_until_the_balance_runs_out(api: Api) -> None:
    holder = unique_id("RH")
    g = general_body(holder)
    assert (await api.register(g)).status_code == 201
    results = []
    for _ in range(3):
        r = await api.hold(hold_body(holder, form="general_guarantee", required="80000.00", amount="0"))
        assert r.status_code in (200, 201), r.text
        results.append(r.json())
    assert [r["status"] for r in results] == ["held", "held", "refused"]
    assert all(r["drawn_from"] == g["guarantee_id"] and r["amount"] == "80000.00" for r in results[:2])
    assert results[2]["reason"] == (
        f"balance 40000.00 CNY of general guarantee {g['guarantee_id']} is below the required 80000.00 CNY"
    )
    # a smaller case still fits in what is left, exactly
    last = await api.hold(hold_body(holder, form="general_guarantee", required="40000.00", amount="0"))
    assert last.json()["status"] == "held"
    nothing = await api.hold(hold_body(holder, form="general_guarantee", required="0.01", amount="0"))
    assert nothing.json()["status"] == "refused" and "balance 0.00 CNY" in nothing.json()["reason"]

    view = (await api.general(g["guarantee_id"])).json()
    assert view["balance"] == "0.00" and view["used"] == "200000.00"
    assert [(d["kind"], d["amount"], d["balance_after"]) for d in view["draws"]] == [
        ("draw", "80000.00", "120000.00"),
        ("draw", "80000.00", "40000.00"),
        ("draw", "40000.00", "0.00"),
    ]
    assert [h["action"] for h in view["history"]] == ["registered", "drawn", "drawn", "drawn"]


async def test_concurrent_draws_never_overdraw(api: Api) -> None:
    holder = unique_id("RH")
    g = general_body(holder)
    assert (await api.register(g)).status_code == 201
    bodies = [hold_body(holder, form="general_guarantee", required="30000.00", amount="0") for _ in range(10)]
    answers = await asyncio.gather(*(api.hold(b) for b in bodies))
    statuses = sorted(a.json()["status"] for a in answers)
    assert statuses == ["held"] * 6 + ["refused"] * 4
    view = (await api.general(g["guarantee_id"])).json()
    assert view["balance"] == "20000.00" and len(view["draws"]) == 6

    # the same case asked for concurrently under different keys is secured once
    case_id = unique_id("IPR-CASE")
    same = [hold_body(holder, form="cash_deposit", case_id=case_id, key=f"{case_id}:{i}") for i in range(5)]
    answers = await asyncio.gather(*(api.hold(b) for b in same))
    assert {a.json()["case_guarantee_id"] for a in answers} == {f"CG-{case_id}"}
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 200, 201]


async def test_general_guarantee_refusal_reasons(api: Api) -> None:
    today = cn_today()
    nobody = unique_id("RH")
    none = await api.hold(hold_body(nobody, form="general_guarantee"))
    assert none.json()["status"] == "refused"
    assert none.json()["reason"] == f"no general guarantee is registered for holder {nobody} in CN"

    lapsed_holder = unique_id("RH")
    ended = general_body(
        lapsed_holder,
        coverage_from=(today - timedelta(days=400)).isoformat(),
        coverage_until=(today - timedelta(days=40)).isoformat(),
        letter_expires_on=(today + timedelta(days=100)).isoformat(),
    )
    assert (await api.register(ended)).status_code == 201
    outside = (await api.hold(hold_body(lapsed_holder, form="general_guarantee"))).json()
    assert outside["status"] == "refused" and "outside the coverage period" in outside["reason"]
    assert ended["guarantee_id"] in outside["reason"]

    expired_holder = unique_id("RH")
    expired = general_body(
        expired_holder,
        coverage_from=(today - timedelta(days=400)).isoformat(),
        coverage_until=(today - timedelta(days=200)).isoformat(),
        letter_expires_on=(today - timedelta(days=10)).isoformat(),
    )
    assert (await api.register(expired)).status_code == 201
    letter = (await api.hold(hold_body(expired_holder, form="general_guarantee"))).json()
    assert letter["status"] == "refused"
    assert letter["reason"] == (
        f"the letter of general guarantee {expired['guarantee_id']} expired on {expired['letter_expires_on']}"
    )

    long_key = await api.hold(hold_body(lapsed_holder, key="K" * 151))
    assert long_key.status_code == 422 and error_code(long_key) == "schema_violation"
    huge = await api.hold(hold_body(lapsed_holder, required="1" + "0" * 16, amount="1" + "0" * 16))
    assert huge.status_code == 422 and error_code(huge) == "schema_violation"
    no_reference = await api.hold({**hold_body(lapsed_holder), "reference": ""})
    assert no_reference.status_code == 201  # a reference is optional
    usd = await api.hold({**hold_body(lapsed_holder, form="cash_deposit"), "currency": "usd"})
    assert usd.status_code == 422 and error_code(usd) == "schema_violation"
    unknown = await api.hold({**hold_body(lapsed_holder), "jurisdiction": "XX"})
    assert unknown.status_code == 422 and error_code(unknown) == "unknown_jurisdiction"


# ---------------------------------------------------------------- costs and settlement


async def test_costs_and_settlement_refund_restores_the_general_guarantee(api: Api) -> None:
    holder = unique_id("RH")
    g = general_body(holder)
    assert (await api.register(g)).status_code == 201
    body = hold_body(holder, form="general_guarantee", required="50000.00", amount="0")
    case_id = body["case_id"]
    assert (await api.hold(body)).json()["status"] == "held"

    custody = {
        "idempotency_key": f"{case_id}:custody",
        "case_id": case_id,
        "kind": "custody",
        "amount": "300",
        "currency": "CNY",
        "detail": "custody fee, Shanghai Pudong warehouse",
    }
    first = await api.cost(case_id, custody)
    assert first.status_code == 201, first.text
    assert (await api.cost(case_id, custody)).json() == first.json()  # replay: recorded once
    clash = await api.cost(case_id, {**custody, "amount": "301"})
    assert clash.status_code == 409 and error_code(clash) == "idempotency_conflict"
    disposal = {
        **custody,
        "idempotency_key": f"{case_id}:disposal",
        "kind": "disposal",
        "amount": "200.00",
        "detail": "destruction",
    }
    assert (await api.cost(case_id, disposal, who="officer")).status_code == 201
    wrong_currency = await api.cost(case_id, {**custody, "idempotency_key": f"{case_id}:usd", "currency": "USD"})
    assert wrong_currency.status_code == 422 and error_code(wrong_currency) == "currency_mismatch"
    mismatch = await api.cost(case_id, {**custody, "case_id": "OTHER"})
    assert mismatch.status_code == 422 and error_code(mismatch) == "case_id_mismatch"
    nowhere = await api.cost("NO-SUCH-CASE", {**custody, "idempotency_key": unique_id("K"), "case_id": "NO-SUCH-CASE"})
    assert nowhere.status_code == 404 and error_code(nowhere) == "case_guarantee_not_found"

    open_view = (await api.case(case_id)).json()
    assert open_view["settled"] is False and open_view["amount"] == "50000.00"
    assert open_view["accrued"] == {
        "storage_days": 1,
        "storage_rate": "50.00",
        "storage": "50.00",
        "costs": "500.00",
        "accrued": "550.00",
    }
    assert open_view["headroom"] == "49450.00"
    assert [c["kind"] for c in open_view["costs"]] == ["custody", "disposal"]

    held_at = datetime.fromisoformat(open_view["held_at"])
    ended_at = held_at + timedelta(days=3, hours=5)
    settle = {
        "idempotency_key": f"{case_id}:settle",
        "case_id": case_id,
        "outcome": "released",
        "ended_at": ended_at.isoformat(),
    }
    assert (await api.settle(case_id, settle, who="officer")).status_code == 403  # the case worker settles
    settled = await api.settle(case_id, settle)
    assert settled.status_code == 200, settled.text
    result = settled.json()
    assert result == {
        "case_guarantee_id": f"CG-{case_id}",
        "charged": "650.00",
        "refunded": "49350.00",
        "currency": "CNY",
        "storage_days": 3,
        "storage_amount": "150.00",
        "costs_amount": "500.00",
        "unpaid": "0.00",
    }
    assert (await api.settle(case_id, settle)).json() == result
    again = await api.settle(
        case_id,
        {**settle, "idempotency_key": f"{case_id}:settle-2", "ended_at": (ended_at + timedelta(days=9)).isoformat()},
    )
    assert again.status_code == 200 and again.json() == result  # settled once
    conflict = await api.settle(case_id, {**settle, "outcome": "confiscated"})
    assert conflict.status_code == 409

    late = await api.cost(case_id, {**custody, "idempotency_key": f"{case_id}:late"})
    assert late.status_code == 409 and error_code(late) == "case_guarantee_settled"

    view = (await api.general(g["guarantee_id"])).json()
    assert view["balance"] == "199350.00"
    assert [(d["kind"], d["amount"], d["balance_after"]) for d in view["draws"]] == [
        ("draw", "50000.00", "150000.00"),
        ("restore", "49350.00", "199350.00"),
    ]
    closed = (await api.case(case_id)).json()
    assert closed["settled"] is True and closed["outcome"] == "released"
    assert (closed["charged"], closed["refunded"], closed["unpaid"]) == ("650.00", "49350.00", "0.00")
    assert closed["accrued"]["storage_days"] == 3 and closed["accrued"]["accrued"] == "650.00"
    assert [h["action"] for h in closed["history"]] == ["held", "cost_charged", "cost_charged", "settled"]
    worker, officer = "IPR case worker (case-worker)", "Wang Wei (wang.wei)"
    assert [h["actor"] for h in closed["history"]] == [worker, worker, officer, worker]


async def test_settlement_never_charges_more_than_held_and_raises_alerts(api: Api, stack) -> None:
    holder = unique_id("RH")
    body = hold_body(holder, form="cash_deposit", required="1000", amount="1000")
    case_id = body["case_id"]
    assert (await api.hold(body)).status_code == 201
    storage = {
        "idempotency_key": f"{case_id}:storage",
        "case_id": case_id,
        "kind": "storage",
        "amount": "1800",
        "currency": "CNY",
        "detail": "warehouse invoice W-1",
    }
    assert (await api.cost(case_id, storage)).status_code == 201
    # actual storage recorded: the per-day estimate is no longer added on top
    assert (await api.case(case_id)).json()["accrued"]["storage"] == "0.00"
    found = (await api.alerts()).json()["alerts"]
    exceed = [a for a in found if a["kind"] == "costs_exceed_guarantee" and a.get("case_id") == case_id]
    assert exceed and exceed[0]["accrued"] == "1800.00"

    settled = await api.settle(
        case_id,
        {
            "idempotency_key": f"{case_id}:settle",
            "case_id": case_id,
            "outcome": "confiscated",
            "ended_at": (datetime.now(UTC) + timedelta(days=10)).isoformat(),
        },
    )
    assert settled.status_code == 200, settled.text
    result = settled.json()
    assert (result["charged"], result["refunded"], result["unpaid"]) == ("1000.00", "0.00", "800.00")
    assert result["storage_amount"] == "0.00" and result["storage_days"] == 10

    found = (await api.alerts(who="supervisor")).json()["alerts"]
    unpaid = [a for a in found if a["kind"] == "unpaid_costs" and a.get("case_id") == case_id]
    assert len(unpaid) == 1 and unpaid[0]["unpaid"] == "800.00"
    assert not [a for a in found if a["kind"] == "costs_exceed_guarantee" and a.get("case_id") == case_id]
    missing = await api.settle(
        "NO-SUCH-CASE",
        {
            "idempotency_key": unique_id("K"),
            "case_id": "NO-SUCH-CASE",
            "outcome": "released",
            "ended_at": "2026-01-01T00:00:00Z",
        },
    )
    assert missing.status_code == 404 and error_code(missing) == "case_guarantee_not_found"


async def test_alerts_on_low_balance_and_expiry_and_their_metrics(api: Api, stack) -> None:
    today = cn_today()
    holder = unique_id("RH")
    ending = general_body(
        holder,
        coverage_until=(today + timedelta(days=10)).isoformat(),
        letter_expires_on=(today + timedelta(days=25)).isoformat(),
    )
    assert (await api.register(ending)).status_code == 201
    assert (await api.hold(hold_body(holder, form="general_guarantee", required="100000.01", amount="0"))).json()[
        "status"
    ] == "held"
    far = general_body(unique_id("RH"))
    assert (await api.register(far)).status_code == 201

    answer = await api.alerts()
    assert answer.status_code == 200
    mine = {a["kind"]: a for a in answer.json()["alerts"] if a.get("guarantee_id") == ending["guarantee_id"]}
    assert set(mine) == {"low_balance", "coverage_ending", "letter_expiring"}
    assert mine["coverage_ending"]["days_left"] == 10 and mine["letter_expiring"]["days_left"] == 25
    assert "99999.99" in mine["low_balance"]["message"]
    assert not [a for a in answer.json()["alerts"] if a.get("guarantee_id") == far["guarantee_id"]]

    async def balance_shown():  # the periodic refresh may overwrite a draw it read before; it converges
        text = (await api.http.get(f"{api.base}/metrics")).text
        found = re.search(
            r'ipr_guarantee_general_balance\{[^}]*guarantee_id="' + ending["guarantee_id"] + r'"[^}]*\} (\S+)', text
        )
        return text if found and float(found.group(1)) == pytest.approx(99999.99) else None

    metrics = await eventually(balance_shown, within=75, what="the drawn balance in the metrics")
    counts = dict(re.findall(r'ipr_guarantee_alerts\{kind="(\w+)"\} (\S+)', metrics))
    assert float(counts["coverage_ending"]) >= 1 and float(counts["low_balance"]) >= 1
    assert re.search(r'ipr_guarantee_holds_total\{form="general_guarantee"\} [1-9]', metrics)
    assert re.search(r"ipr_guarantee_refusals_total\{", metrics)

    for who in ("system", "clearance", "holder"):
        assert (await api.alerts(who=who)).status_code == 403


# ---------------------------------------------------------------- who may see what


async def test_roles_and_rights_holders_see_only_their_own(api: Api, stack) -> None:
    mine, other = unique_id("RH"), unique_id("RH")
    g_mine, g_other = general_body(mine), general_body(other)
    assert (await api.register(g_mine)).status_code == 201
    assert (await api.register(g_other)).status_code == 201
    held = hold_body(mine)
    assert (await api.hold(held)).status_code == 201
    held_other = hold_body(other)
    assert (await api.hold(held_other)).status_code == 201

    as_mine = stack.holder_auth(mine)
    own = await api.http.get(f"{api.base}/v1/general-guarantees/{g_mine['guarantee_id']}", headers=as_mine)
    assert own.status_code == 200 and own.json()["holder_id"] == mine
    theirs = await api.http.get(f"{api.base}/v1/general-guarantees/{g_other['guarantee_id']}", headers=as_mine)
    assert theirs.status_code == 404 and error_code(theirs) == "guarantee_not_found"
    listed = (await api.http.get(f"{api.base}/v1/general-guarantees", headers=as_mine)).json()
    assert [g["guarantee_id"] for g in listed] == [g_mine["guarantee_id"]]
    sneaky = (await api.http.get(f"{api.base}/v1/general-guarantees?holder_id={other}", headers=as_mine)).json()
    assert sneaky == []
    everyone = (await api.http.get(f"{api.base}/v1/general-guarantees", headers=stack.auth("officer"))).json()
    assert {g_mine["guarantee_id"], g_other["guarantee_id"]} <= {g["guarantee_id"] for g in everyone}

    case_own = await api.http.get(f"{api.base}/v1/case-guarantees/{held['case_id']}", headers=as_mine)
    assert case_own.status_code == 200 and case_own.json()["accrued"]["storage_days"] == 1
    case_theirs = await api.http.get(f"{api.base}/v1/case-guarantees/{held_other['case_id']}", headers=as_mine)
    assert case_theirs.status_code == 404
    assert (await api.case("NO-SUCH-CASE")).status_code == 404

    # rights holders and clearance systems change nothing; only officers register general guarantees
    for who in (as_mine, stack.auth("clearance")):
        assert (
            await api.http.post(f"{api.base}/v1/case-guarantees", json=hold_body(mine), headers=who)
        ).status_code == 403
        assert (
            await api.http.post(f"{api.base}/v1/general-guarantees", json=general_body(mine), headers=who)
        ).status_code == 403
    assert (await api.register(general_body(mine), who="system")).status_code == 403
    assert (await api.case(held["case_id"], who="clearance")).status_code == 403
    assert (await api.general(g_mine["guarantee_id"], who="clearance")).status_code == 403
    assert (await api.general(g_mine["guarantee_id"], who="system")).status_code == 403
    unauthenticated = await api.http.get(f"{api.base}/v1/alerts")
    assert unauthenticated.status_code == 401 and error_code(unauthenticated) == "missing_token"


async def test_service_health_readiness_metrics_and_docs(http, stack) -> None:
    base = stack.url("guarantees")
    assert (await http.get(f"{base}/healthz")).json() == {"status": "ok", "service": "guarantees"}
    ready = await http.get(f"{base}/readyz")
    assert ready.status_code == 200 and {"database", "broker"} <= set(ready.json()["checks"])
    doc = (await http.get(f"{base}/openapi.json")).json()
    assert doc["info"]["title"] == "IPR guarantees service"
    for path in (
        "/v1/general-guarantees",
        "/v1/general-guarantees/{guarantee_id}",
        "/v1/case-guarantees",
        "/v1/case-guarantees/{case_id}",
        "/v1/case-guarantees/{case_id}/costs",
        "/v1/case-guarantees/{case_id}/settle",
        "/v1/alerts",
    ):
        assert path in doc["paths"], path
    bad_json = await http.post(
        f"{base}/v1/case-guarantees",
        content=b"{nope",
        headers={**stack.auth("system"), "Content-Type": "application/json"},
    )
    assert bad_json.status_code == 400 and bad_json.json()["error"]["code"] == "malformed_json"
