"""A local PagerDuty emulator speaking the REST API v2 and Events API v2 wire formats."""

from emulators.pagerdutyemu.emulator import Fault, PagerDutyEmulator, PdEvent, PdIncident, PdUser

__all__ = ["Fault", "PagerDutyEmulator", "PdEvent", "PdIncident", "PdUser"]
