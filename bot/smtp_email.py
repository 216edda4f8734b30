"""EmailPort over SMTP with aiosmtplib (async): one connection per message, with a deadline.

Server, port, TLS mode, user and password come from the environment (SMTP_*); the From address
from the config's `email:` section. Each message has a text and an HTML part and the Message-ID it
was stored with, so a message sent again after a crash mid-delivery is recognisable as the same one.
"""

from __future__ import annotations

import email.message
import email.utils
import logging

import aiosmtplib

from domain.core.ports import EmailMessage, PortError

log = logging.getLogger(__name__)


class SmtpEmail:
    def __init__(self, *, host: str, port: int, tls: str, user: str | None, password: str | None,
                 from_address: str, timeout: float) -> None:
        self.host, self.port, self.tls = host, port, tls
        self._user, self._password = user, password
        self.from_address = from_address
        self.timeout = timeout

    def build(self, message: EmailMessage) -> email.message.EmailMessage:
        msg = email.message.EmailMessage()
        msg["From"] = self.from_address
        msg["To"] = message.to
        msg["Subject"] = message.subject
        msg["Message-ID"] = message.message_id
        msg["Date"] = email.utils.formatdate(localtime=False)
        msg["Auto-Submitted"] = "auto-generated"
        msg.set_content(message.text)
        msg.add_alternative(message.html, subtype="html")
        return msg

    async def send(self, message: EmailMessage) -> None:
        try:
            errors, _ = await aiosmtplib.send(
                self.build(message), hostname=self.host, port=self.port, username=self._user, password=self._password,
                use_tls=self.tls == "tls", start_tls=self.tls == "starttls", timeout=self.timeout)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise PortError("recipient_refused", f"the mail server refused {message.to}: {exc}"[:400]) from None
        except aiosmtplib.SMTPResponseException as exc:
            raise PortError(f"smtp_{exc.code}", f"the mail server answered {exc.code} {exc.message}"[:400]) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise PortError("smtp_unreachable", f"mail server {self.host}:{self.port}: {type(exc).__name__}: {exc}"[:400]) from None
        if errors:
            raise PortError("recipient_refused", f"the mail server refused {', '.join(errors)}"[:400])
