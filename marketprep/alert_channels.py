"""Where alerts go: a Slack-compatible incoming webhook and SMTP email, with secrets redacted.

Every channel raises DeliveryError with a message that is safe to store and log: never the webhook
URL (it is the credential), never a password, never the text of a requests exception (it quotes
the URL).
"""

from __future__ import annotations

import dataclasses
import re
import smtplib
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

import requests

from marketprep.settings import Settings

TIMEOUT_S = 10
REDACTED = "[redacted]"
# Credentials that can appear in error text even when we never put them there ourselves.
SECRET_PATTERNS = (
    re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(
        r"(?i)\b(access_token|api_?key|apikey|token|password|passwd|secret)"
        r"(\s*[=:]\s*|\"\s*:\s*\")[^\s&\"',;]+"
    ),
    re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@"),  # user:password@ in a URL
    re.compile(r"https://hooks\.slack\.com/\S+"),
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` without any of `secrets` and without anything shaped like a credential."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    text = SECRET_PATTERNS[0].sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = SECRET_PATTERNS[1].sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    text = SECRET_PATTERNS[2].sub(lambda m: f"{m.group(1)}{REDACTED}@", text)
    return SECRET_PATTERNS[3].sub(REDACTED, text)


def settings_secrets(settings: Settings) -> list[str]:
    """Every secret setting: the fields Settings keeps out of its repr, and the warehouse password."""
    values = [getattr(settings, f.name) for f in dataclasses.fields(settings) if not f.repr] + [
        settings.warehouse.pg_password
    ]
    return [v for v in values if isinstance(v, str) and v]


@dataclass(frozen=True)
class Message:
    subject: str
    text: str


class DeliveryError(Exception):
    """A channel could not deliver; the message is safe to store."""


class Channel(Protocol):
    name: str

    def send(self, message: Message) -> None: ...


@dataclass(frozen=True)
class WebhookChannel:
    """Slack's incoming-webhook format: a JSON body with `text` (mrkdwn)."""

    url: str = dataclasses.field(repr=False)
    name: str = "webhook"

    def send(self, message: Message) -> None:
        try:
            response = requests.post(
                self.url, json={"text": f"*{message.subject}*\n{message.text}"}, timeout=TIMEOUT_S
            )
        except requests.RequestException as exc:
            raise DeliveryError(f"webhook: {type(exc).__name__}") from None
        if response.status_code >= 300:
            raise DeliveryError(f"webhook: HTTP {response.status_code}")


@dataclass(frozen=True)
class EmailChannel:
    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    user: str = ""
    password: str = dataclasses.field(default="", repr=False)
    name: str = "email"

    def send(self, message: Message) -> None:
        email = EmailMessage()
        email["Subject"], email["From"], email["To"] = (
            message.subject,
            self.sender,
            ", ".join(self.recipients),
        )
        email.set_content(message.text)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=TIMEOUT_S) as smtp:
                smtp.ehlo()
                if self.user:
                    if not smtp.has_extn("starttls"):
                        raise DeliveryError(
                            "email: the server offers no STARTTLS; the password is never sent in clear"
                        )
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                    smtp.login(self.user, self.password)
                smtp.send_message(email)
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(
                f"email: {type(exc).__name__} from {self.host}:{self.port}"
            ) from None


def channels(settings: Settings) -> list[Channel]:
    """The configured channels; none configured means alerts are only recorded in ops.alerts."""
    found: list[Channel] = []
    if settings.alert_webhook_url:
        found.append(WebhookChannel(settings.alert_webhook_url))
    recipients = tuple(r.strip() for r in settings.smtp_to.split(",") if r.strip())
    if settings.smtp_host and recipients:
        found.append(
            EmailChannel(
                settings.smtp_host,
                settings.smtp_port,
                settings.smtp_from,
                recipients,
                settings.smtp_user,
                settings.smtp_password,
            )
        )
    return found
