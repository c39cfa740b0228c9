from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class FhirSettings(BaseSettings):
    """Where clients reach the FHIR endpoints: the gateway's public address (the same
    variable the gateway reads), so ``fullUrl`` values are the ones clients can GET."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    public_url: str = Field("http://127.0.0.1:8000", validation_alias="GATEWAY_PUBLIC_URL")

    @property
    def base(self) -> str:
        return self.public_url.rstrip("/") + "/v1/fhir"
