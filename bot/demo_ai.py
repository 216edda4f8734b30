"""The demo's AI act: `/dispatch-summary` in the incident channel, answered by the local OpenAI-compatible emulator."""

from __future__ import annotations

import os

from domain.config.ai import AIConfig
from emulators.openaiemu import OpenAIEmulator
from emulators.slackemu import SlackEmulator

DEMO_KEY_ENV = "WARROOM_DEMO_AI_KEY"


def demo_ai_config(ai: OpenAIEmulator) -> AIConfig:
    """AI on, pointed at the emulator; its key in an environment variable of this process only."""
    os.environ[DEMO_KEY_ENV] = ai.api_key
    return AIConfig(base_url=ai.base_url, model="gpt-4o-mini", api_key_env=DEMO_KEY_ENV, timeout=10)


async def ai_act(emu: SlackEmulator, runtime, ai: OpenAIEmulator, alice: str, channel_id: str, out) -> None:
    """A message carrying a secret, then a read-in: what alice sees, and that the secret never left."""
    secret = "sk-demo-4f9d2c7b1a8e6f3d0c5b9a7e"
    text = f"Rolled back deploy 4812; the old key {secret} is revoked"
    out(f"[alice in the incident channel] {text}")
    await emu.post_message(alice, channel_id, text)
    command = runtime.config.commands.summary
    out(f"[alice] {command}")
    await emu.slash_command(alice, command, channel=channel_id)
    await runtime.registry.drain()
    shown = [e for e in emu.ephemerals if e["user"] == alice and e["channel"] == channel_id][-1]
    out(f"  alice sees, only to her: {shown['text']}")
    sent = ai.requests[-1].prompt if ai.requests else ""
    out(f"  the AI emulator received {len(sent)} characters; the key was {'SENT' if secret in sent else 'redacted'}\n")
