from pydantic import Field

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "identity"
    admin_client_id: str = Field(default="identity-admin", description="Browser client of the administration page")
