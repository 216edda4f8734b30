"""A local Slack workspace: Web API + Socket Mode over loopback, for tests, the demo and benchmarks.

Drive the real slack_sdk / Bolt clients against it; act as people through its driver methods;
assert on its workspace state. It rejects what Slack rejects.
"""

from emulators.slackemu.emulator import SlackEmulator
from emulators.slackemu.forms import DriverError
from emulators.slackemu.state import Ack, ApiCall, Channel, Delivery, Message, User, View

__all__ = ["Ack", "ApiCall", "Channel", "Delivery", "DriverError", "Message", "SlackEmulator", "User", "View"]
