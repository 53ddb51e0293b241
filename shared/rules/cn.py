"""CN rule values used by the case workflow (Regulations on Customs Protection of IPR, GACC Measures).

Amounts are in RMB. Values marked uncertain in the domain brief are settings upstream;
here they are the best-known defaults.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

HOLDER_REPLY_WORKING_DAYS = 3  # Reg. Art. 16; Measures Art. 22 (article number uncertain)
DETERMINATION_WORKING_DAYS = 30  # Reg. Art. 20
EX_OFFICIO_RELEASE_WORKING_DAYS = 50  # Reg. Art. 24(2)
APPLICATION_RELEASE_WORKING_DAYS = 20  # Reg. Art. 24(1)
MAX_FINE_RATE = Decimal("0.30")  # Penalty Regs Art. 25


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def ex_officio_guarantee_cny(goods_value_cny: Decimal) -> Decimal:
    """Guarantee a holder must post to have goods detained ex officio (tiers of the GACC Measures)."""
    if goods_value_cny < Decimal("20000"):
        return _money(goods_value_cny)
    if goods_value_cny <= Decimal("200000"):
        return _money(max(goods_value_cny * Decimal("0.5"), Decimal("20000")))
    return Decimal("100000.00")


def application_guarantee_cny(goods_value_cny: Decimal) -> Decimal:
    """Application mode: a guarantee equal to the goods value."""
    return _money(goods_value_cny)
