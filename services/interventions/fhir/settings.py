from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class FhirSettings(BaseSettings):
    """The gateway's public address (the variable the gateway itself reads): FHIR
    ``fullUrl`` values and references to the registry's Patient and Group use it."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    public_url: str = Field("http://127.0.0.1:8000", validation_alias="GATEWAY_PUBLIC_URL")

    @property
    def base(self) -> str:
        return self.public_url.rstrip("/") + "/v1/interventions/fhir"

    @property
    def registry_base(self) -> str:
        return self.public_url.rstrip("/") + "/v1/fhir"
