"""Feedback request, modal (builder + parser) and daily digest. Pure functions."""

from __future__ import annotations

import json

from blockkit import Actions, Button, Checkboxes, Input, Message, Modal, Option, PlainTextInput, Section, StaticSelect

from domain.feedback import RATINGS, FeedbackDigest, FeedbackRequest
from modals.render import Rendered, render
from modals.text import escape, md, plain, truncate

CALLBACK_ID = "give_feedback"
OPEN_ACTION = "feedback_open"
CASE_CALLBACK_ID = "give_case_feedback"  # the same form about a case; its metadata carries "case" instead


def feedback_modal(incident_id: int, incident_name: str, *, about: str = "incident") -> dict:
    """The feedback form about an incident (or, with `about="case"`, a case)."""
    rating = StaticSelect().action_id("rating")
    for r in RATINGS:
        rating.add_option(Option(plain(r), r))
    title, callback = ("Case feedback", CASE_CALLBACK_ID) if about == "case" else ("Incident feedback", CALLBACK_ID)
    return (
        Modal().title(plain(title)).submit(plain("Send")).close(plain("Cancel")).callback_id(callback)
        .private_metadata(json.dumps({about: incident_id, "name": incident_name}))
        .add_block(Input(plain(f"How satisfied are you with how {incident_name} was handled?"
                               if about == "case" else f"How satisfied are you with how {incident_name} was run?", 2000))
                   .block_id("rating").element(rating))
        .add_block(Input(plain("Comments")).block_id("comments").optional(True).element(
            PlainTextInput().action_id("comments").multiline(True).max_length(3000)))
        .add_block(Input(plain("Anonymous")).block_id("anonymous").optional(True).element(
            Checkboxes().action_id("anonymous").add_option(Option(plain("Do not show my name"), "yes"))))
        .build()
    )


def parse_feedback(view: dict) -> tuple[dict | None, dict[str, str]]:
    values = view.get("state", {}).get("values", {})

    def get(block: str) -> dict:
        return (values.get(block) or {}).get(block) or {}

    meta = json.loads(view.get("private_metadata") or "{}")
    rating = (get("rating").get("selected_option") or {}).get("value")
    if rating not in RATINGS:
        return None, {"rating": "Pick how satisfied you are."}
    comments = (get("comments").get("value") or "").strip() or None
    anonymous = bool(get("anonymous").get("selected_options"))
    return {"incident": meta.get("incident"), "case": meta.get("case"), "name": meta["name"], "rating": rating,
            "comments": comments, "anonymous": anonymous}, {}


@render.register
def render_feedback_request(notice: FeedbackRequest) -> Rendered:
    text = f"{notice.incident_name} is closed. How did it go? Your feedback improves the next one."
    msg = (Message().add_block(Section(md(f"*{escape(notice.incident_name)}* · {escape(truncate(notice.title, 200))}\n"
                                          f"{escape(text)}")))
           .add_block(Actions().add_element(Button(plain("Give feedback"), OPEN_ACTION, value=str(notice.incident_id),
                                                   style="primary"))))
    return text, msg.build()["blocks"]


@render.register
def render_feedback_digest(notice: FeedbackDigest) -> Rendered:
    text = f"Feedback received in the last 24 hours ({len(notice.entries)})"
    msg = Message().add_block(Section(md(f"*{text}*")))
    for name, rating, comments, author in notice.entries[:45]:
        who = f"<@{author}>" if author else "anonymous"
        line = f"*{escape(name)}* · {escape(rating)} · {who}" + (f"\n>{escape(comments)}" if comments else "")
        msg.add_block(Section(md(truncate(line, 3000))))
    return text, msg.build()["blocks"]
