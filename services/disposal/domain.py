"""Pure rules of the disposal step: the fine and the disposal method (CN Reg. Art. 27, Penalty Regs Art. 25)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

MAX_FINE_RATE = Decimal("0.30")

# Order of preference for confiscated goods (Reg. Art. 27). Removing a counterfeit mark is
# normally not enough to let imported goods into commerce, so auction is skipped for them.
DISPOSAL_ORDER = ("public_welfare", "sale_to_holder", "auction_after_removal", "destruction")


def fine_for(goods_value: Decimal, rate: Decimal) -> Decimal:
    """Fine = rate x goods value, never above 30% of goods value."""
    if goods_value < 0:
        raise ValueError("goods value must not be negative")
    if not Decimal(0) <= rate <= MAX_FINE_RATE:
        raise ValueError("fine rate must lie between 0 and 0.30")
    return (goods_value * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def disposal_method(right_type: str, *, usable_for_public_welfare: bool = False, holder_buys: bool = False) -> str:
    """First lawful option in the order of Reg. Art. 27 for the goods at hand."""
    if usable_for_public_welfare:
        return "public_welfare"
    if holder_buys:
        return "sale_to_holder"
    if right_type == "trademark":
        return "destruction"
    return "auction_after_removal"
