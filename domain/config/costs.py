"""Costs: what an hour of response costs, the activity-based cost models and which type uses which.

An incident (or case) type that names no model is costed with the classic model (role hours).
"""

from __future__ import annotations

import math

from pydantic import Field, PositiveInt

from domain.config.base import StrictModel
from domain.core.vocabulary import CostActivity

CLASSIC_MODEL = "classic"  # the built-in model's name (not configurable, not allowed as a model name)


class ProjectCostConfig(StrictModel):
    """The cost figures of one project (unset: the global ones)."""

    project: str = Field(min_length=1)
    annual_employee_cost: PositiveInt | None = None
    business_year_hours: PositiveInt | None = None


class CostActivityConfig(StrictModel):
    """An activity a model tracks and the work it stands for (`response_time_seconds` from its time)."""

    activity: CostActivity
    response_time_seconds: PositiveInt = 300


class CostModelConfig(StrictModel):
    """A named activity-based cost model."""

    name: str = Field(min_length=1)
    description: str = ""
    activities: list[CostActivityConfig] = Field(min_length=1)

    def response_time(self, activity: str) -> int | None:
        """Seconds of work one `activity` stands for; None when the model does not track it."""
        return next((a.response_time_seconds for a in self.activities if a.activity == activity), None)


class CustomCostTypeConfig(StrictModel):
    """A cost people enter by hand (e.g. "Lost revenue"), shown beside the response cost."""

    name: str = Field(min_length=1, max_length=60)
    description: str = ""


class CostsConfig(StrictModel):
    """The `costs:` section."""

    enabled: bool = Field(default=True, description="run the cost polling job and show response costs")
    currency: str = "$"
    annual_employee_cost: PositiveInt = Field(default=50000, description="what one responder costs a year")
    business_year_hours: PositiveInt = Field(default=2080, description="working hours in a year")
    projects: list[ProjectCostConfig] = Field(default_factory=list)
    models: list[CostModelConfig] = Field(default_factory=list)
    custom_types: list[CustomCostTypeConfig] = Field(
        default_factory=list, description="costs entered by hand per incident (e.g. Lost revenue), from /dispatch-update-cost")
    incident_types: dict[str, str] = Field(
        default_factory=dict, description="incident type name -> cost model name (unnamed types: classic)")
    case_types: dict[str, str] = Field(
        default_factory=dict, description="case type name -> cost model name (unnamed types: classic)")
    polling_minutes: PositiveInt = Field(default=5, description="how often the cost polling job runs")
    calls_per_run: PositiveInt = Field(default=300, description="Slack history/replies calls one run may make")
    sweep_minutes: PositiveInt = Field(
        default=60, description="a conversation no message event marked is still read this often (missed events)")
    thread_watch_hours: PositiveInt = Field(
        default=72, description="replies are looked for in threads started (or replied to) this recently")

    def hourly_rate(self, project: str | None) -> int:
        """ceil(annual_employee_cost / business_year_hours) of `project` (global figures where it sets none)."""
        own = next((p for p in self.projects if p.project == project), None)
        annual = (own.annual_employee_cost if own else None) or self.annual_employee_cost
        hours = (own.business_year_hours if own else None) or self.business_year_hours
        return math.ceil(annual / hours)

    def money(self, value: float) -> str:
        """An amount as people read it: "$1,234.50"."""
        return f"{self.currency}{value:,.2f}"

    def model(self, name: str) -> CostModelConfig | None:
        return next((m for m in self.models if m.name == name), None)

    def model_for_incident_type(self, type_name: str) -> str:
        """The cost model name an incident of this type uses (CLASSIC_MODEL by default)."""
        return _lookup(self.incident_types, type_name)

    def model_for_case_type(self, type_name: str) -> str:
        return _lookup(self.case_types, type_name)


def _lookup(mapping: dict[str, str], type_name: str) -> str:
    key = type_name.casefold()
    return next((model for name, model in mapping.items() if name.casefold() == key), CLASSIC_MODEL)
