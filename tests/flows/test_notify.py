"""Alert notifications: a webhook gets the alerts as JSON over real loopback HTTP, a command gets
them on stdin, and a failing or refused notification is reported, never raised."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from flows.changes import Alert, markdown, notify

ALERTS = [Alert("sanctions", "acme", "new sanctions candidate: ACME <b>LTD</b> on ofac_sdn")]


@pytest.fixture
def webhook() -> Iterator[dict[str, Any]]:
    received: dict[str, Any] = {"bodies": [], "status": 200}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers["Content-Length"])
            received["bodies"].append(json.loads(self.rfile.read(length)))
            received["content_type"] = self.headers["Content-Type"]
            self.send_response(received["status"])
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    received["url"] = f"http://127.0.0.1:{server.server_address[1]}/hook?token=s3cret"
    yield received
    server.shutdown()


def test_the_webhook_gets_the_alerts_as_json(webhook: dict[str, Any]) -> None:
    rules = {"notify": {"webhook_url": webhook["url"]}}
    problems = notify(ALERTS, rules, {"PARTNERDD_ALLOW_HOSTS": "127.0.0.1"})
    assert problems == []
    assert webhook["content_type"] == "application/json"
    assert webhook["bodies"] == [
        {
            "alerts": [
                {
                    "category": "sanctions",
                    "subject": "acme",
                    "text": ALERTS[0].text,
                    "partners": [],
                }
            ]
        }
    ]


def test_a_failing_webhook_is_reported_without_its_token(webhook: dict[str, Any]) -> None:
    webhook["status"] = 500
    problems = notify(
        ALERTS, {"notify": {"webhook_url": webhook["url"]}}, {"PARTNERDD_ALLOW_HOSTS": "127.0.0.1"}
    )
    assert len(problems) == 1 and "HTTP 500" in problems[0] and "s3cret" not in problems[0]


def test_a_loopback_webhook_is_refused_unless_allowed(webhook: dict[str, Any]) -> None:
    problems = notify(ALERTS, {"notify": {"webhook_url": webhook["url"]}}, {})
    assert len(problems) == 1 and "BlockedAddress" in problems[0]
    assert webhook["bodies"] == []


def test_the_command_gets_the_alerts_on_stdin_and_its_failure_is_reported(tmp_path: Path) -> None:
    out = tmp_path / "alerts.json"
    script = f"import sys, pathlib; pathlib.Path({str(out)!r}).write_bytes(sys.stdin.buffer.read())"
    command = f"{sys.executable} -c {json.dumps(script)}"
    assert notify(ALERTS, {"notify": {"command": command}}, {}) == []
    assert json.loads(out.read_text())["alerts"][0]["subject"] == "acme"
    failing = f"{sys.executable} -c 'import sys; sys.exit(4)'"
    problems = notify(ALERTS, {"notify": {"command": failing}}, {})
    assert len(problems) == 1 and problems[0].startswith("command: CalledProcessError")


def test_no_alerts_no_notification(webhook: dict[str, Any]) -> None:
    assert notify([], {"notify": {"webhook_url": webhook["url"]}}, {}) == []
    assert webhook["bodies"] == []


def test_the_report_escapes_scraped_text() -> None:
    text = markdown({}, ALERTS, "run x")
    assert "<b>" not in text and "&lt;b&gt;LTD&lt;/b&gt;" in text
