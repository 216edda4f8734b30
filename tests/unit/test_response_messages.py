"""Notices whose Slack markup used to be built in domain/: the renderer adds it, the text is unchanged."""

from __future__ import annotations

from domain.response.notices import JoinedFromAnnouncement, ReinvitedForOpenTasks
from emulators.slackemu.blockkit_rules import check_message
from modals.renderers import render


def test_reinvited_for_open_tasks_links_the_channel_and_lists_five_tasks():
    text, blocks = render(ReinvitedForOpenTasks("INC-3", "C9", ["Rotate the leaked key"]))
    assert check_message(text, blocks) == []
    assert text == ("You were added back to <#C9> (INC-3) because you still have 1 open task(s): "
                    "Rotate the leaked key. Resolve or hand them over before leaving.")
    assert blocks[0]["text"]["text"] == text
    text, _ = render(ReinvitedForOpenTasks("INC-3", "C9", [f"t{i} <!here>" for i in range(7)]))
    assert "7 open task(s): t0 &lt;!here&gt;; t1" in text and "t4 &lt;!here&gt; …. Resolve" in text
    assert "t5" not in text and "<!here>" not in text


def test_joined_from_announcement_links_the_channel():
    assert render(JoinedFromAnnouncement("C9", already=False))[0] == "You joined <#C9>."
    text, blocks = render(JoinedFromAnnouncement("C9", already=True))
    assert text == "You are already in <#C9>." and check_message(text, blocks) == []
