"""A local workflow runner: receives warroom's signed workflow webhooks and reports runs back to warroom's
callback API, over loopback, as a real runner (a CI system, a SOAR) would."""

from emulators.webhookemu.emulator import Received, WebhookEmulator

__all__ = ["Received", "WebhookEmulator"]
