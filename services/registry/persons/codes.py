"""Pydantic field types that accept only codes of a registry code list."""

from typing import Annotated, Any

from pydantic import AfterValidator

from services.registry.codelists import CodeList


def _member_of(code_list: CodeList) -> AfterValidator:
    def check(value: Any) -> Any:
        if value is not None and value not in code_list:
            allowed = ", ".join(str(c) for c in code_list.codes())
            raise ValueError(f"unknown {code_list.name} code {value!r}; expected one of {allowed}")
        entry = code_list.get(value)
        return value if entry is None else entry.code

    return AfterValidator(check)


def coded(base: type, code_list: CodeList) -> Any:
    """``coded(int, SEX)``: an int that must be a SEX code."""
    return Annotated[base, _member_of(code_list)]
