"""The README's first command: the demo plays an incident and an alert-to-case story end to end."""

from bot.demo import run_demo


async def test_demo_reports_an_incident_and_turns_alerts_into_one_triaged_case():
    lines: list[str] = []
    assert await run_demo(out=lines.append) == 0
    text = "\n".join(lines)
    assert "incident INC-1 is ready" in text
    assert text.count("202 {") == 3, "three alerts accepted"
    assert "*CASE-1*" in text and "*Alerts*: 3" in text and "user: `mallory`" in text
    assert "moved New → Triage" in text
