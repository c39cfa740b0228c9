from pydantic import BaseModel, Field


class RegionRead(BaseModel):
    code: str = Field(examples=["61.04.16.2007"])
    level: str = Field(examples=["village"])
    name: str = Field(examples=["Kali Nilam"])
    parent_code: str | None = Field(default=None, examples=["61.04.16"])


class RegionDetail(RegionRead):
    ancestors: list[RegionRead] = Field(description="From province down to the parent.")
    children_count: int
