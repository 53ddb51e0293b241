"""The personal-use / reasonable-quantity test: one answer for every jurisdiction, from its rule pack.

Articles an individual carries or mails for personal use (own use or gifts, not sale or rent)
are not treated as infringing goods while they stay within a reasonable quantity (CN Reg. Art.
31, Penalty Regs Art. 64). Where the exemption applies, to which channels, directions and kinds
of consignment, is the pack's ``personal_use`` section; the quantity is the pack setting
``personal_use_quantity`` (units of goods under one mark in one consignment), marked uncertain
where the law sets no number and overridable with ``RULES_<J>_PERSONAL_USE_QUANTITY``.

Pure: the pack comes in as an argument.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from shared.rules.pack import RulePack


@dataclass(frozen=True)
class PersonalUseAnswer:
    applies: bool  # the exemption can apply to this consignment at all
    exempt: bool  # within the reasonable quantity: not treated as infringing goods
    limit: Decimal | None  # units of goods under one mark; None where the pack sets no number
    uncertain: bool  # the limit is not a number set by law
    basis: str
    reason: str


def channel_of(transport_mode: str) -> str:
    """The channel a consignment travels by, as the packs name them."""
    return {"post": "post", "express": "express"}.get(transport_mode, "cargo")


def personal_use(
    pack: RulePack,
    *,
    transport_mode: str,
    direction: str,
    business_model: str | None,
    quantity: Decimal,
    what: str = "the goods",
) -> PersonalUseAnswer:
    """Whether ``quantity`` units of ``what`` (goods under one mark in one consignment) are exempt as
    an individual's personal articles in a reasonable quantity."""
    rules = pack.personal_use
    setting = pack.settings.get("personal_use_quantity")
    limit_raw = setting.value if setting is not None else None
    limit = None if limit_raw is None else Decimal(str(limit_raw))
    uncertain = bool(setting.uncertain) if setting is not None else True
    if rules is None:
        return PersonalUseAnswer(
            False, False, limit, uncertain, "", f"{pack.jurisdiction}: the rule pack has no personal-use exemption"
        )
    channel = channel_of(transport_mode)
    if channel not in rules.channels:
        return PersonalUseAnswer(
            False,
            False,
            limit,
            uncertain,
            rules.basis,
            f"{pack.jurisdiction}: the personal-use exemption ({rules.basis}) does not cover {channel} consignments",
        )
    if direction not in rules.directions:
        return PersonalUseAnswer(
            False,
            False,
            limit,
            uncertain,
            rules.basis,
            f"{pack.jurisdiction}: the personal-use exemption ({rules.basis}) does not cover {direction}",
        )
    if business_model not in rules.business_models:
        kind = business_model or "a consignment of unstated kind"
        return PersonalUseAnswer(
            False,
            False,
            limit,
            uncertain,
            rules.basis,
            f"{kind} is goods, not an individual's personal articles ({rules.basis})",
        )
    if limit is None:
        return PersonalUseAnswer(
            True,
            False,
            None,
            uncertain,
            rules.basis,
            f"personal articles: the reasonable quantity is judged by customs ({rules.basis}; "
            "no number set), so an officer decides",
        )
    flag = " (a number the rule pack marks uncertain)" if uncertain else ""
    if quantity <= limit:
        return PersonalUseAnswer(
            True,
            True,
            limit,
            uncertain,
            rules.basis,
            f"personal articles in a reasonable quantity: {_n(quantity)} of {what}, at most "
            f"{_n(limit)}{flag} ({rules.basis}): not treated as infringing goods",
        )
    return PersonalUseAnswer(
        True,
        False,
        limit,
        uncertain,
        rules.basis,
        f"{_n(quantity)} of {what} exceed the reasonable quantity for personal use of "
        f"{_n(limit)}{flag} ({rules.basis})",
    )


def _n(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"
