"""The workflow runner emulator against warroom's real webhook adapter: signatures, idempotency keys, faults."""

from __future__ import annotations

import pytest

from bot.workflow_webhooks import WebhookWorkflows
from domain.config.workflows import WorkflowsConfig
from domain.core.ports import PortError
from emulators.webhookemu import WebhookEmulator


@pytest.fixture
async def runner():
    emu = WebhookEmulator({"isolate": "right"})
    await emu.start()
    yield emu
    await emu.stop()


def adapter(runner: WebhookEmulator, secret: str = "right", timeout: float = 10, env: dict | None = None) -> WebhookWorkflows:
    return WebhookWorkflows(WorkflowsConfig.model_validate({"definitions": [
        {"name": "Isolate", "url_env": "ISOLATE_URL", "secret": secret, "timeout_seconds": timeout}]}),
        env={"ISOLATE_URL": runner.hook_url("isolate")} if env is None else env)


async def test_a_signed_run_is_accepted_once_per_idempotency_key(runner):
    hooks = adapter(runner)
    try:
        started = await hooks.start("Isolate", "0b6f0d8e-0000-4000-8000-000000000001", {"id": "x", "parameters": {"host": "a"}})
        again = await hooks.start("Isolate", "0b6f0d8e-0000-4000-8000-000000000001", {"id": "x", "parameters": {"host": "a"}})
    finally:
        await hooks.close()
    assert started.weblink == again.weblink == f"{runner.url}/runs/0b6f0d8e-0000-4000-8000-000000000001"
    (run,) = runner.runs.values()
    assert run.requests == 2 and run.body["parameters"] == {"host": "a"} and not runner.refused


async def test_wrong_secret_faults_slowness_and_missing_settings_are_port_errors(runner):
    hooks = adapter(runner, secret="wrong")
    with pytest.raises(PortError) as refused:
        await hooks.start("Isolate", "id-1", {})
    assert refused.value.code == "http_401" and len(runner.refused) == 1 and not runner.runs
    await hooks.close()

    hooks = adapter(runner)
    runner.fail("isolate", 503)
    with pytest.raises(PortError) as failed:
        await hooks.start("Isolate", "id-2", {})
    assert failed.value.code == "http_503"
    assert (await hooks.start("Isolate", "id-2", {})).weblink  # the fault was for one request
    await hooks.close()

    runner.latency = 0.5
    hooks = adapter(runner, timeout=0.1)
    with pytest.raises(PortError) as slow:
        await hooks.start("Isolate", "id-3", {})
    assert slow.value.code == "timeout"
    await hooks.close()

    hooks = adapter(runner, env={})
    assert hooks.missing() == ["workflow 'Isolate': the environment variable ISOLATE_URL (its webhook URL) is not set"]
    with pytest.raises(PortError) as unset:
        await hooks.start("Isolate", "id-4", {})
    assert unset.value.code == "not_configured"
    await hooks.close()


async def test_github_workflow_dispatch_with_inputs_and_the_run_id(runner):
    runner.github_tokens.add("ghp_good")
    runner.github_workflow("acme/response", "isolate.yml", {"host": True, "mode": False, "warroom_run": True})

    def github(token: str = "ghp_good", **extra) -> WebhookWorkflows:
        return WebhookWorkflows(WorkflowsConfig.model_validate({"definitions": [
            {"name": "Isolate", "kind": "github", "repository": "acme/response", "workflow": "isolate.yml",
             "token_env": "GH_TOKEN", "api_url": runner.url, "parameters": [{"name": "host"}, {"name": "mode"}],
             **extra}]}), env={"GH_TOKEN": token})

    hooks = github()
    try:
        started = await hooks.start("Isolate", "run-1", {"parameters": {"host": "db-7", "mode": "full"}})
    finally:
        await hooks.close()
    assert started.weblink is None  # not github.com: no link made up
    assert runner.runs["run-1"].body == {"ref": "main", "inputs": {"host": "db-7", "mode": "full", "warroom_run": "run-1"}}

    for hooks, code in ((github("ghp_bad"), "http_401"), (github(ref="release"), "http_422"),
                        (github(workflow="other.yml"), "http_404")):
        with pytest.raises(PortError) as refused:
            await hooks.start("Isolate", "run-2", {"parameters": {"host": "x", "mode": "y"}})
        await hooks.close()
        assert refused.value.code == code
    hooks = github()
    with pytest.raises(PortError) as missing:
        await hooks.start("Isolate", "run-3", {"parameters": {"mode": "y"}})  # host is required by the workflow
    await hooks.close()
    assert missing.value.code == "http_422" and "run-3" not in runner.runs
