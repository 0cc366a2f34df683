"""A real HTTP server on 127.0.0.1 that answers like GitHub's OAuth and user endpoints.

Tests register the GitHub account the next sign-in should produce
(`next_account`) and can make the token endpoint drop connections
(`unreachable`) to simulate GitHub being down.
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit


@dataclass
class Account:
    id: int
    login: str
    name: str | None = None
    emails: list[dict[str, Any]] = field(default_factory=list)

    avatar_url: str | None = None
    html_url: str | None = None

    def profile(self) -> dict[str, Any]:
        """As GitHub's /user answers; emails are listed `verified` unless a test says otherwise."""
        return {
            "id": self.id,
            "login": self.login,
            "name": self.name,
            "avatar_url": self.avatar_url or f"https://avatars.example/{self.id}",
            "html_url": self.html_url or f"https://github.example/{self.login}",
        }


class FakeGitHub:
    def __init__(self) -> None:
        self.next_account: Account | None = None
        self.unreachable = False
        self.codes: dict[str, Account] = {}
        self.tokens: dict[str, Account] = {}
        self.authorize_requests: list[dict[str, str]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def reset(self) -> None:
        self.next_account = None
        self.unreachable = False
        self.authorize_requests.clear()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _json(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _account(self) -> Account | None:
                token = self.headers.get("Authorization", "").removeprefix("Bearer ").strip()
                return fake.tokens.get(token)

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                query = {key: values[0] for key, values in parse_qs(url.query).items()}
                if url.path == "/login/oauth/authorize":
                    fake.authorize_requests.append(query)
                    code = secrets.token_hex(8)
                    if fake.next_account is not None:
                        fake.codes[code] = fake.next_account
                    target = query["redirect_uri"] + "?" + urlencode({"code": code, "state": query.get("state", "")})
                    self.send_response(302)
                    self.send_header("Location", target)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif url.path == "/user":
                    account = self._account()
                    self._json(200, account.profile()) if account else self._json(401, {"message": "Bad credentials"})
                elif url.path == "/user/emails":
                    account = self._account()
                    emails = [{"verified": True, **email} for email in account.emails] if account else None
                    self._json(200, emails) if account else self._json(401, {"message": "Bad credentials"})
                else:
                    self._json(404, {"message": "Not Found"})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                form = {key: values[0] for key, values in parse_qs(self.rfile.read(length).decode()).items()}
                if urlsplit(self.path).path != "/login/oauth/access_token":
                    self._json(404, {"message": "Not Found"})
                    return
                if fake.unreachable:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                account = fake.codes.pop(form.get("code", ""), None)
                if account is None or form.get("client_id") != "test-client-id":
                    self._json(
                        200, {"error": "bad_verification_code", "error_description": "The code passed is incorrect or expired."}
                    )
                    return
                token = "gho_" + secrets.token_hex(10)
                fake.tokens[token] = account
                self._json(200, {"access_token": token, "token_type": "bearer", "scope": "user:email"})

        return Handler
