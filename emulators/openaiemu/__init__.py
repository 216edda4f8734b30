"""A local OpenAI-compatible API emulator speaking the chat-completions wire format the `openai` library uses."""

from emulators.openaiemu.emulator import ChatRequest, Fault, OpenAIEmulator

__all__ = ["ChatRequest", "Fault", "OpenAIEmulator"]
