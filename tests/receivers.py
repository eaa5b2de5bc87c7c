"""Local stand-ins for the alert destinations: a Slack-style webhook and an SMTP server on loopback.

aiosmtpd is not installed and the standard library's smtpd is deprecated, so the SMTP receiver is
a minimal server speaking just what smtplib sends (EHLO, MAIL, RCPT, DATA, QUIT).
"""

from __future__ import annotations

import email
import json
import socketserver
import threading
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class WebhookReceiver:
    """Records the JSON body of every POST; answers `status` (200 unless a test sets another)."""

    def __init__(self) -> None:
        self.posts: list[dict] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.posts.append(json.loads(body))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = (
            f"http://127.0.0.1:{self.server.server_address[1]}/services/T000/B000/secret-hook"
        )
        # a short poll interval keeps shutdown() quick
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()

    @property
    def texts(self) -> list[str]:
        return [post["text"] for post in self.posts]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class SmtpReceiver:
    """Records every message delivered to it, parsed."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        receiver = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line: str) -> None:
                self.wfile.write(f"{line}\r\n".encode())

            def handle(self) -> None:
                self.reply("220 localhost test SMTP")
                sender, recipients = "", []
                while line := self.rfile.readline().decode().rstrip("\r\n"):
                    verb = line.split(" ", 1)[0].upper()
                    if verb in ("EHLO", "HELO"):
                        self.reply("250 localhost")
                    elif verb == "MAIL":
                        sender = line.split(":", 1)[1].strip(" <>")
                        self.reply("250 OK")
                    elif verb == "RCPT":
                        recipients.append(line.split(":", 1)[1].strip(" <>"))
                        self.reply("250 OK")
                    elif verb == "DATA":
                        self.reply("354 end with <CRLF>.<CRLF>")
                        data = b""
                        while (chunk := self.rfile.readline()) != b".\r\n":
                            data += chunk[1:] if chunk.startswith(b"..") else chunk
                        receiver.messages.append(email.message_from_bytes(data))
                        receiver.envelopes.append((sender, recipients))
                        sender, recipients = "", []
                        self.reply("250 OK queued")
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        return
                    else:
                        self.reply("502 not implemented")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        # a short poll interval keeps shutdown() quick
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()

    @property
    def subjects(self) -> list[str]:
        return [m["Subject"] for m in self.messages]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
