"""The README's first command: the demo plays an incident and an alert-to-case story end to end."""

from bot.demo import run_demo


async def test_demo_reports_an_incident_and_turns_alerts_into_one_triaged_case():
    lines: list[str] = []
    assert await run_demo(out=lines.append) == 0
    text = "\n".join(lines)
    assert "incident INC-1 is ready" in text
    assert "bookmark: Incident document → https://docs.google.com/document/d/" in text
    assert "bookmark: Video call → https://meet.google.com/" in text
    assert text.count("202 {") == 3, "three alerts accepted"
    assert "*CASE-1*" in text and "*Alerts*: 3" in text and "user: `mallory`" in text
    assert "moved New → Triage" in text


async def test_demo_with_pagerduty_pages_the_commander_and_the_db_on_call():
    lines: list[str] = []
    assert await run_demo(out=lines.append, pagerduty=True) == 0
    text = "\n".join(lines)
    assert "paged the commander: #1" in text and "assigned to Alice Ops" in text
    assert "*db*: @Carol DBA (level 1, DB primary)" in text
    assert "dedup key warroom-inc-1-service-db: incident #2 for Carol DBA" in text


def test_the_demo_as_run_from_the_shell_prints_only_its_transcript():
    """No stray log line (the commander's page was a WARNING on stderr): the page is part of the story."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "bot", "demo"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    assert "  page: alice paged for INC-1" in out.stdout
