"""Security headers on every HTTP answer: CSP, no framing, nosniff, referrer policy; HSTS over HTTPS only."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from mp3gen import mp3_bytes

TEMPLATES = Path(__file__).resolve().parents[1] / "livebeats" / "templates"


def assert_protected(response) -> None:
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy, (response.url, policy)
    assert "unsafe-inline" not in policy
    assert response.headers.get("x-frame-options") == "DENY"
    assert response.headers.get("x-content-type-options") == "nosniff"
    assert response.headers.get("referrer-policy") == "same-origin"


async def test_every_kind_of_answer_carries_the_headers(browsers):
    alice = await browsers("alice")
    [song_id] = await alice.add_songs([("Song - Band.mp3", mp3_bytes(2))])
    answers = [
        await alice.http.get("/signin"),
        await alice.http.get("/alice"),
        await alice.http.get("/profile/settings"),
        await alice.http.get("/static/app.js"),
        await alice.http.get("/nobody-here"),
        await alice.http.get(f"/files/{song_id}?token=forged"),
        await alice.http.post("/alice/songs", content=b"{", headers={"X-CSRF-Token": alice.csrf}),
    ]
    for response in answers:
        assert_protected(response)
        assert "strict-transport-security" not in response.headers, "plain HTTP: no HSTS"


@pytest.mark.parametrize("template", sorted(path.name for path in TEMPLATES.glob("*.html")))
def test_templates_have_no_inline_code_the_policy_would_block(template):
    text = (TEMPLATES / template).read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)", text), "inline <script>"
    assert not re.search(r"<style\b|\sstyle=", text), "inline style"
    assert not re.search(r"\son[a-z]+=", text), "event-handler attribute"
