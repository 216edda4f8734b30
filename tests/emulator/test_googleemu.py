"""The Google emulator refuses what Google refuses: no or unknown token, a key it does not know, missing `fields`."""

from __future__ import annotations

import aiohttp
import pytest

from bot.google_workspace import GoogleWorkspace, load_credentials
from domain.config.google import ConferenceConfig, GoogleConfig
from domain.core.ports import PortError
from emulators.googleemu import GoogleEmulator, new_service_account_key


@pytest.fixture
async def google():
    emu = GoogleEmulator()
    await emu.start()
    yield emu
    await emu.stop()


def workspace(emu: GoogleEmulator, key: dict | None = None) -> GoogleWorkspace:
    config = GoogleConfig(api_base=emu.url, timeout=3)
    return GoogleWorkspace(config, load_credentials(config, key or emu.service_account_info()), ConferenceConfig())


async def test_calls_without_a_token_it_issued_are_401_in_googles_shape(google):
    async with aiohttp.ClientSession() as http:
        for headers in ({}, {"Authorization": "Bearer ya29.made-up"}):
            async with http.get(f"{google.url}/drive/v3/files", headers=headers) as resp:
                body = await resp.json()
                assert resp.status == 401 and body["error"]["status"] == "UNAUTHENTICATED"
                assert body["error"]["errors"][0]["reason"] == "authError"
    assert not google.calls


async def test_a_key_signed_by_another_service_account_gets_no_token(google):
    other, _ = new_service_account_key(google.key_info["client_email"])
    stranger = workspace(google, {**other, "token_uri": f"{google.url}/token"})
    with pytest.raises(PortError) as caught:
        await stranger.find_file("root", "k")
    assert caught.value.code == "google_auth" and "Invalid JWT Signature" in str(caught.value)
    assert not google.tokens


async def test_the_real_client_gets_drive_errors_as_port_errors(google):
    g = workspace(google)
    with pytest.raises(PortError) as caught:
        await g.copy_document("no-such-template", "root", "x", "k")
    assert caught.value.code == "google_404" and "File not found" in str(caught.value)
    google.fail("events.insert", 429, retry_after=60, times=5)
    with pytest.raises(PortError) as caught:
        await g.create_bridge("abcdef123", "INC-1", "d")
    assert caught.value.code == "google_429" and "Retry-After 60" in str(caught.value), "a wait past the deadline is not slept"
    assert google.operations("events.") == ["events.insert"]


async def test_comments_need_fields_and_a_hang_times_out(google):
    doc = google.add_document("d", "text")
    token = "ya29.test"
    google.tokens.add(token)
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        async with http.get(f"{google.url}/drive/v3/files/{doc.id}/comments") as resp:
            assert resp.status == 400 and "fields" in (await resp.json())["error"]["message"]
    g = workspace(google)
    google.hang = 5
    with pytest.raises(PortError) as caught:
        await g.list_comments(doc.id, since=None)
    assert caught.value.code in ("timeout", "unreachable")
