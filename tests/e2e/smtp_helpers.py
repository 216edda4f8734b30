"""An in-process SMTP server (aiosmtpd) that keeps what it receives, with login and scripted refusals."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        assert body is not None, f"no text/{subtype} part"
        return body.get_content()


@dataclass
class Mailbox:
    """The server's state: `received` messages, `refuse` the next N with a 451, `logins` seen."""

    user: str = "warroom"
    password: str = "smtp-secret"
    received: list[Received] = field(default_factory=list)
    refuse: int = 0
    logins: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def to(self, address: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if address in r.rcpt_tos]

    # aiosmtpd handler hooks (run on the server's own thread and loop)
    async def handle_DATA(self, server, session, envelope) -> str:
        with self.lock:
            if self.refuse > 0:
                self.refuse -= 1
                return "451 4.3.0 Try again later (simulated)"
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == self.user \
            and auth_data.password.decode() == self.password
        if ok:
            self.logins.append(self.user)
        return AuthResult(success=ok, handled=False)  # aiosmtpd then answers 535 itself


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_smtp(mailbox: Mailbox) -> Controller:
    # Plain-text AUTH over loopback, as a test server: aiosmtpd warns about it on every connection (rightly,
    # for real servers); pyproject's filterwarnings silences that one warning.
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port(), authenticator=mailbox.authenticate,
                            auth_required=True, auth_require_tls=False)
    controller.start()
    return controller
