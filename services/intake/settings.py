from pydantic import Field

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "intake"
    reconcile_after_s: float = Field(default=300.0, gt=0, description="A declaration stored but not assessed this "
                                     "long (seconds) is published again for risk")
    reconcile_interval_s: float = Field(default=30.0, gt=0, description="How often unassessed declarations are "
                                        "looked for")
    reconcile_max_republish: int = Field(default=5, ge=0, description="How often one declaration revision is "
                                         "published again before it is left to an operator (alert)")
