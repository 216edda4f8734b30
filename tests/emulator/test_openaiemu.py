"""The OpenAI-compatible emulator, driven by the real `openai.AsyncOpenAI` client: shapes, auth, faults."""

from __future__ import annotations

import time

import openai
import pytest

from emulators.openaiemu import OpenAIEmulator


@pytest.fixture
async def emu():
    e = OpenAIEmulator(api_key="sk-test-key")
    await e.start()
    yield e
    await e.stop()


def client(emu, key="sk-test-key", **kw):
    return openai.AsyncOpenAI(api_key=key, base_url=emu.base_url, max_retries=kw.pop("max_retries", 0), **kw)


async def test_chat_completion_has_the_real_shape(emu):
    emu.responder = lambda request: "hello there"
    answer = await client(emu).chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}])
    assert answer.object == "chat.completion" and answer.id.startswith("chatcmpl-")
    assert answer.choices[0].message.content == "hello there" and answer.choices[0].finish_reason == "stop"
    assert answer.usage is not None and answer.usage.total_tokens > 0
    assert emu.requests[0].system == "be brief" and emu.prompts == ["be brief\nhi"]


async def test_json_instruction_is_followed(emu):
    answer = await client(emu).chat.completions.create(model="gpt-4o-mini", messages=[
        {"role": "system", "content": "Answer with a JSON object with the keys: a, b_c."},
        {"role": "user", "content": "facts"}])
    assert set(__import__("json").loads(answer.choices[0].message.content)) == {"a", "b_c"}


async def test_models_are_listed(emu):
    models = await client(emu).models.list()
    assert [m.id for m in models.data] == list(emu.models)


async def test_wrong_or_missing_key_is_401(emu):
    with pytest.raises(openai.AuthenticationError) as err:
        await client(emu, key="sk-wrong").chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "secret stuff"}])
    assert err.value.status_code == 401 and "Incorrect API key" in str(err.value)
    assert emu.requests == [] and emu.refused == [401]  # nothing recorded as received


async def test_bad_bodies_and_unknown_models(emu):
    with pytest.raises(openai.BadRequestError):
        await client(emu).chat.completions.create(model="gpt-4o-mini", messages=[])
    with pytest.raises(openai.NotFoundError) as err:
        await client(emu).chat.completions.create(model="gpt-9", messages=[{"role": "user", "content": "x"}])
    assert "model_not_found" in str(err.value.body)


async def test_429_with_retry_after_then_success(emu):
    emu.fail(429, retry_after=1)
    started = time.monotonic()
    answer = await client(emu, max_retries=1).chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
    assert answer.choices[0].message.content
    assert time.monotonic() - started >= 0.9 and len(emu.requests) == 2


async def test_429_without_retries_raises_rate_limit(emu):
    emu.fail(429, retry_after=3)
    with pytest.raises(openai.RateLimitError) as err:
        await client(emu).chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
    assert err.value.response.headers["retry-after"] == "3"


async def test_5xx_and_slow_and_hung_answers(emu):
    emu.fail(500)
    with pytest.raises(openai.InternalServerError):
        await client(emu).chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
    emu.latency = 1.0
    with pytest.raises(openai.APITimeoutError):
        await client(emu, timeout=0.3).chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
    emu.latency = 0
    emu.hang()
    with pytest.raises(openai.APITimeoutError):
        await client(emu, timeout=0.3).chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])


async def test_max_tokens_cuts_the_answer(emu):
    emu.responder = lambda request: "word " * 100
    answer = await client(emu).chat.completions.create(model="gpt-4o-mini", max_tokens=5,
                                                       messages=[{"role": "user", "content": "x"}])
    assert answer.choices[0].finish_reason == "length" and len(answer.choices[0].message.content) == 20
