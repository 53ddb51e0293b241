"""Settings of learning (environment variables, like every setting of the service)."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class LearningSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    learning_enabled: bool = Field(
        default=True,
        description="Store line features and score with the champion "
        "and the shadow model (off: the rules alone, nothing stored)",
    )
    model_weight: float = Field(default=0.8, ge=0, le=1, description="Most points the champion adds to a score")
    model_floor: float = Field(default=0.5, ge=0, lt=1, description="Probability below which the model adds nothing")
    model_refresh_s: float = Field(default=30.0, gt=0, description="How often a replica looks for a new champion")
    learning_train_every_s: float = Field(
        default=0.0,
        ge=0,
        description="Scheduled training period in seconds (0: off; one replica at a time); the result enters shadow",
    )
    learning_seed: int = Field(default=7, description="Seed of scheduled training runs")
