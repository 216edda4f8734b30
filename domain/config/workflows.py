"""Workflows (section `workflows:` of the warroom file): automations a responder (or a signal) starts.

A workflow is run by an HTTP webhook: warroom POSTs a JSON body signed like Slack signs its requests
(`v0=` HMAC-SHA256 of `v0:{timestamp}:{body}`, the Unix time in `X-Warroom-Request-Timestamp`) to the
URL named by `url_env` (or `url`); or by GitHub Actions (`workflow_dispatch`, the parameters as inputs plus
`warroom_run`, the run id). The workflow reports back to
`POST /api/v1/{organization}/workflows/instances/{id}`, authenticated like signals (`sources`: bearer
or HMAC; none listed: `signals.sources`).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, PositiveFloat, PositiveInt, model_validator

from domain.config.base import StrictModel
from domain.config.signals import SignalSourceConfig

_PARAMETER = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
GITHUB_INPUTS_MAX = 10  # workflow_dispatch inputs GitHub accepts per request


class WorkflowParameterConfig(StrictModel):
    """A parameter the run form asks for (pre-filled with `default`)."""

    name: str = Field(min_length=1, max_length=64)
    description: str = ""
    default: str = ""
    required: bool = False

    @model_validator(mode="after")
    def _name(self) -> WorkflowParameterConfig:
        if not _PARAMETER.match(self.name):
            raise ValueError("name must be letters, digits, '_', '-' or '.', starting with a letter or '_'")
        return self


class WorkflowConfig(StrictModel):
    """One workflow and how to run it: an HTTP webhook (`kind: webhook`), or a GitHub Actions workflow started with
    `workflow_dispatch` (`kind: github`: `repository`, `workflow` file, `ref`, `token_env`)."""

    name: str = Field(min_length=1, max_length=75)
    description: str = ""
    enabled: bool = True
    kind: Literal["webhook", "github"] = "webhook"
    url: str | None = Field(default=None, description="webhook URL inline (tests, demos); prefer url_env")
    url_env: str | None = Field(default=None, description="environment variable holding the webhook URL")
    secret: str | None = Field(default=None, description="HMAC key inline; prefer secret_env")
    secret_env: str | None = Field(default=None, description="environment variable holding the HMAC key")
    repository: str | None = Field(default=None, description="github: owner/name")
    workflow: str | None = Field(default=None, description="github: the workflow file (isolate.yml) or id")
    ref: str = Field(default="main", description="github: branch or tag to run it on")
    token_env: str | None = Field(default=None, description="github: environment variable holding a token "
                                  "allowed to dispatch workflows (actions: write)")
    token: str | None = Field(default=None, description="github: token inline (tests, demos); prefer token_env")
    api_url: str = Field(default="https://api.github.com", description="github: API base (GitHub Enterprise: its /api/v3)")
    timeout_seconds: PositiveFloat = Field(default=10.0, le=60)
    parameters: list[WorkflowParameterConfig] = Field(default_factory=list)

    @model_validator(mode="after")
    def _runnable(self) -> WorkflowConfig:
        if self.kind == "github":
            if not self.repository or not _REPOSITORY.match(self.repository):
                raise ValueError("a github workflow needs repository: owner/name")
            if not self.workflow:
                raise ValueError("a github workflow needs workflow: its file name (e.g. isolate.yml) or id")
            if not (self.token or self.token_env):
                raise ValueError("a github workflow needs token_env (or token)")
            if len(self.parameters) > GITHUB_INPUTS_MAX - 1:
                raise ValueError(f"a github workflow takes at most {GITHUB_INPUTS_MAX - 1} parameters "
                                 "(workflow_dispatch inputs, one is the run id)")
            return self
        if not (self.url or self.url_env):
            raise ValueError("a webhook workflow needs url_env (or url)")
        if not (self.secret or self.secret_env):
            raise ValueError("a webhook workflow needs secret_env (or secret): its requests are signed")
        if self.url and not self.url.startswith(("http://", "https://")):
            raise ValueError("url must start with http:// or https://")
        return self

    def parameter(self, name: str) -> WorkflowParameterConfig | None:
        return next((p for p in self.parameters if p.name == name), None)


class WorkflowsConfig(StrictModel):
    """Workflows; none by default."""

    definitions: list[WorkflowConfig] = Field(default_factory=list)
    sources: list[SignalSourceConfig] = Field(
        default_factory=list, description="who may report workflow status (empty: signals.sources)")
    max_attempts: PositiveInt = Field(default=5, description="webhook attempts before a run is marked failed")
    callback_max_bytes: PositiveInt = 64 * 1024
    callback_base_url: str | None = Field(
        default=None, description="warroom's public base URL, put before the callback path sent to workflows")

    def definition(self, name: str) -> WorkflowConfig | None:
        return next((w for w in self.definitions if w.name == name), None)

    def enabled(self) -> list[WorkflowConfig]:
        return [w for w in self.definitions if w.enabled]


def workflow_reference_errors(config: Any) -> list[tuple[str, str]]:
    """(path, message) for every workflow rule broken (config: a WarroomConfig): duplicate names and
    parameters, signal definitions naming an unknown workflow, a workflow whose required parameter has no
    default when a signal starts it (entities may not supply it)."""
    problems: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    for i, workflow in enumerate(config.workflows.definitions):
        path = f"workflows.definitions[{i}]"
        if workflow.name.casefold() in seen:
            problems.append((f"{path}.name", f"duplicate workflow {workflow.name!r} (also at "
                                             f"workflows.definitions[{seen[workflow.name.casefold()]}])"))
        seen.setdefault(workflow.name.casefold(), i)
        names: dict[str, int] = {}
        for j, parameter in enumerate(workflow.parameters):
            if parameter.name in names:
                problems.append((f"{path}.parameters[{j}].name", f"duplicate parameter {parameter.name!r}"))
            names.setdefault(parameter.name, j)
    for i, definition in enumerate(config.signals.definitions):
        if definition.workflow is None:
            continue
        workflow = config.workflows.definition(definition.workflow)
        if workflow is None:
            problems.append((f"signals.definitions[{i}].workflow",
                             f"{definition.workflow!r} is not one of workflows.definitions"))
    return problems
