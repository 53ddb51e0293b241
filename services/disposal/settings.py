from decimal import Decimal

from pydantic import Field

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "disposal"
    fine_rate: Decimal = Field(
        default=Decimal("0.15"), ge=0, le=Decimal("0.30"),
        description="Fine as a share of goods value (CN Penalty Regs Art. 25 caps it at 30%)",
    )
