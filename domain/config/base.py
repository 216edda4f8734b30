"""What every config section shares: the strict model, id patterns and the error types."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")


def check_channel_id(v: str | None) -> str | None:
    if v is not None and not _CHANNEL_ID.match(v):
        raise ValueError("must be a Slack channel id such as C012AB3CD")
    return v


SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


class StrictModel(BaseModel):
    """Unknown keys are errors, so typos never pass silently. Enum fields keep their plain string
    value, so a dumped config is plain data again."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, use_enum_values=True)


@dataclass(frozen=True)
class ConfigError:
    """One problem in a config file: where (`path`, `line`) and what."""

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.path or '(file)'}: {self.message}"


class ConfigInvalid(Exception):
    """The config file has errors; `errors` lists them all."""

    def __init__(self, errors: list[ConfigError], source: str | None = None) -> None:
        super().__init__(errors)
        self.errors = errors
        self.source = source

    def __str__(self) -> str:
        prefix = f"{self.source}: " if self.source else ""
        return "\n".join(f"{prefix}{err}" for err in self.errors)
