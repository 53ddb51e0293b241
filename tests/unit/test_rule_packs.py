"""Rule packs as data: validation, EU and US calendars across their holidays, guarantee and fine tiers,
and settings overridden from the environment. Expected dates were worked out by hand."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from shared.rules.calendar import calendar_for
from shared.rules.pack import PACKS, RulePack, available_packs, rule_pack

D = Decimal


def test_every_pack_validates_and_names_an_existing_calendar() -> None:
    assert available_packs() == ["CN", "EU", "US"]
    for j in available_packs():
        pack = rule_pack(j)
        assert calendar_for(pack.calendar)  # loads
        assert "escalation_lead" in pack.deadlines
        for name, setting in pack.settings.items():
            if setting.uncertain:
                assert setting.note, f"{j}.{name} is uncertain and must say why"


def test_a_broken_pack_is_refused() -> None:
    raw = json.loads((PACKS / "cn.json").read_text())
    raw["fine"]["tiers"]["heavier"]["max_rate"] = "0.40"  # above the 30% cap
    with pytest.raises(ValidationError, match="outside 0..max_rate"):
        RulePack.model_validate(raw)
    raw = json.loads((PACKS / "cn.json").read_text())
    raw["guarantee"]["ex_officio_tiers"][0] = {"below": 20000}  # neither rate nor fixed
    with pytest.raises(ValidationError):
        RulePack.model_validate(raw)
    raw = json.loads((PACKS / "cn.json").read_text())
    raw["deadlines"]["holder_reply"]["unit"] = "fortnights"
    with pytest.raises(ValidationError):
        RulePack.model_validate(raw)


# US federal holidays 2026 (observed): Jan 1, Jan 19, Feb 16, May 25, Jun 19, Jul 3 (for Sat Jul 4), Sep 7,
# Oct 12, Nov 11, Nov 26, Dec 25.
US_TABLE = [
    ("2026-11-25", 1, "2026-11-27"),  # Wed -> Thanksgiving Thu 26 off -> Fri 27
    ("2026-11-25", 2, "2026-11-30"),
    ("2026-07-01", 2, "2026-07-06"),  # Thu 2, Fri 3 is the observed Independence Day
    ("2026-12-23", 5, "2026-12-31"),  # Thu 24, (Fri 25 off), Mon 28, Tue 29, Wed 30, Thu 31
    ("2026-01-16", 1, "2026-01-20"),  # Fri -> Mon 19 MLK -> Tue 20
    ("2026-11-10", 1, "2026-11-12"),  # Veterans Day Wed 11
    ("2026-11-20", 7, "2026-12-02"),  # importer's 7 business days over Thanksgiving: 23,24,25,27,30, Dec 1, 2
]

# Germany (nationwide) 2026: Jan 1, Apr 3 (Good Friday), Apr 6 (Easter Monday), May 1, May 14 (Ascension),
# May 25 (Whit Monday), Oct 3 (Sat), Dec 25, Dec 26 (Sat).
DE_TABLE = [
    ("2026-04-02", 1, "2026-04-07"),  # Thu -> Good Friday, weekend, Easter Monday -> Tue 7
    ("2026-04-01", 4, "2026-04-09"),  # Thu 2, Tue 7, Wed 8, Thu 9 (4 WD to file an application)
    ("2026-05-13", 1, "2026-05-15"),  # Ascension Thu 14
    ("2026-12-22", 10, "2027-01-07"),  # 23, 24, 28, 29, 30, 31, (Jan 1 off), 4, 5, 6, 7
    ("2026-09-30", 3, "2026-10-05"),  # Oct 1, 2, (Sat 3 is German Unity Day but a weekend anyway), Mon 5
]


@pytest.mark.parametrize(("start", "n", "due"), US_TABLE)
def test_us_business_days(start: str, n: int, due: str) -> None:
    assert calendar_for("US").add_working_days(date.fromisoformat(start), n) == date.fromisoformat(due)


@pytest.mark.parametrize(("start", "n", "due"), DE_TABLE)
def test_eu_working_days_in_the_default_member_state_calendar(start: str, n: int, due: str) -> None:
    assert calendar_for("EU").add_working_days(date.fromisoformat(start), n) == date.fromisoformat(due)


def test_time_zones_of_the_calendars() -> None:
    assert calendar_for("CN").timezone == "Asia/Shanghai"
    assert calendar_for("EU").timezone == "Europe/Berlin"
    assert calendar_for("US").timezone == "America/New_York"
    # end of a day in New York in winter is 05:00 UTC the next day
    assert calendar_for("US").end_of_day(date(2026, 12, 2)).isoformat() == "2026-12-03T05:00:00+00:00"
    assert calendar_for("EU").end_of_day(date(2026, 7, 1)).isoformat() == "2026-07-01T22:00:00+00:00"


def test_previous_working_day_skips_holidays_and_weekends() -> None:
    cn = calendar_for("CN")
    assert cn.previous_working_day(date(2026, 10, 8)) == date(2026, 9, 30)  # National Day week
    assert cn.previous_working_day(date(2026, 10, 12)) == date(2026, 10, 10)  # make-up Saturday
    assert calendar_for("US").previous_working_day(date(2026, 11, 30)) == date(2026, 11, 27)


@pytest.mark.parametrize(
    ("mode", "value", "amount"),
    [
        ("ex_officio", "0.01", "0.01"),
        ("ex_officio", "19999.99", "19999.99"),
        ("ex_officio", "20000", "20000.00"),
        ("ex_officio", "20000.01", "20000.00"),  # 50% would be 10,000: the minimum of 20,000 applies
        ("ex_officio", "40000", "20000.00"),
        ("ex_officio", "40000.02", "20000.01"),
        ("ex_officio", "199999.98", "99999.99"),
        ("ex_officio", "200000", "100000.00"),
        ("ex_officio", "200000.01", "100000.00"),
        ("ex_officio", "5000000", "100000.00"),
        ("application", "200000.01", "200000.01"),
        ("counter_guarantee", "1234.56", "1234.56"),
    ],
)
def test_cn_guarantee_tiers(mode: str, value: str, amount: str) -> None:
    assert rule_pack("CN").guarantee_amount(mode, D(value)) == D(amount)


def test_no_guarantee_in_the_eu_and_us() -> None:
    assert rule_pack("EU").guarantee_amount("ex_officio", D(1_000_000)) == D("0.00")
    assert rule_pack("US").guarantee_amount("ex_officio", D(1_000_000)) == D("0.00")


@pytest.mark.parametrize(
    ("tier", "low", "high"),
    [
        ("none", "0.00", "0.00"),
        ("mitigated", "0.00", "0.00"),
        ("lighter", "0.00", "10000.00"),
        ("ordinary", "10000.00", "20000.00"),
        ("heavier", "20000.00", "30000.00"),
        (None, "10000.00", "20000.00"),  # default tier: ordinary
    ],
)
def test_cn_fine_tiers_for_rmb_100000(tier: str | None, low: str, high: str) -> None:
    assert rule_pack("CN").fine_range(D(100000), tier) == (D(low), D(high))


def test_cn_fine_tier_flags_and_cap() -> None:
    cn = rule_pack("CN")
    assert cn.fine.tiers["mitigated"].confiscation_only
    assert cn.fine.tiers["lighter"].max_exclusive and not cn.fine.tiers["heavier"].max_exclusive
    assert all(t.max_rate <= D("0.30") for t in cn.fine.tiers.values())
    with pytest.raises(ValueError, match="unknown fine tier"):
        cn.fine_range(D(1), "draconian")


def test_us_fine_is_the_retail_value_or_twice_it_for_repeats() -> None:
    us = rule_pack("US")
    assert us.fine_range(D("45000"), None) == (D("0.00"), D("45000.00"))
    assert us.fine_range(D("45000"), None, repeat=True) == (D("0.00"), D("90000.00"))
    with pytest.raises(ValueError, match="national law"):
        rule_pack("EU").fine_range(D(1), None)


def test_deadline_lengths_match_the_law() -> None:
    cn, eu, us = rule_pack("CN"), rule_pack("EU"), rule_pack("US")
    assert [
        cn.deadline(n).amount
        for n in ("holder_reply", "customs_determination", "release_ex_officio", "release_application")
    ] == [3, 30, 50, 20]
    assert [
        eu.deadline(n).amount
        for n in ("afa_after_ex_officio", "confirm_and_agree", "confirm_and_agree_perishable", "extension")
    ] == [4, 10, 3, 10]
    assert (us.deadline("importer_response").amount, us.deadline("detention_period").unit) == (7, "calendar_days")
    assert (us.deadline("detention_period").amount, us.deadline("petition").amount) == (30, 30)
    with pytest.raises(KeyError):
        cn.deadline("no_such_deadline")


def test_uncertain_settings_can_be_overridden_from_the_environment(monkeypatch) -> None:
    rule_pack.cache_clear()
    try:
        monkeypatch.setenv("RULES_CN_POLICE_REFERRAL_GOODS_VALUE", "150000")
        monkeypatch.setenv("RULES_EU_DEEMED_CONSENT", "false")
        assert D(str(rule_pack("CN").setting("police_referral_goods_value"))) == D(150000)
        assert "overridden" in rule_pack("CN").settings["police_referral_goods_value"].note
        assert rule_pack("EU").setting("deemed_consent") is False
    finally:
        monkeypatch.delenv("RULES_CN_POLICE_REFERRAL_GOODS_VALUE")
        monkeypatch.delenv("RULES_EU_DEEMED_CONSENT")
        rule_pack.cache_clear()
    assert rule_pack("CN").setting("police_referral_goods_value") == 50000
