"""Sign-in with GitHub (against the fake GitHub), development sign-in, sign-out, guards."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import asyncpg
import pytest
from fake_github import Account
from support import AppServer, Browser, receive
from websockets.exceptions import ConnectionClosed


async def github_sign_in(browser: Browser, *, forge_state: bool = False):
    """Follow the real redirects: /oauth/github → fake authorize → callback."""
    start = await browser.http.get("/oauth/github")
    assert start.status_code == 303
    authorize = await browser.http.get(start.headers["location"])
    assert authorize.status_code == 302
    callback = authorize.headers["location"]
    if forge_state:
        parts = urlsplit(callback)
        query = parse_qs(parts.query)
        callback = f"{parts.path}?code={query['code'][0]}&state=forged-state"
    return await browser.http.get(callback.removeprefix(browser.server.url))


async def flashes_on(browser: Browser, path: str) -> str:
    response = await browser.http.get(path, follow_redirects=True)
    return response.text


async def test_signin_page_offers_github(browsers):
    browser = await browsers()
    response = await browser.http.get("/signin")
    assert response.status_code == 200
    assert "Sign in with GitHub" in response.text
    assert 'href="/oauth/github"' in response.text


async def test_new_github_user_gets_account_and_identity(browsers, github, database_url):
    github.next_account = Account(
        id=4242,
        login="Octo_Cat",
        name="Octo Cat",
        emails=[{"email": "other@EXAMPLE.com", "primary": False}, {"email": "Octo@Example.COM", "primary": True}],
    )
    browser = await browsers()
    response = await github_sign_in(browser)
    assert response.status_code == 303
    assert response.headers["location"] == "/Octo_Cat"
    assert github.authorize_requests[0]["scope"] == "user:email"
    assert github.authorize_requests[0]["redirect_uri"].endswith("/oauth/callbacks/github")
    profile = await browser.http.get("/Octo_Cat")
    assert profile.status_code == 200
    assert "Octo_Cat&#39;s beats" in profile.text and "(you)" in profile.text

    connection = await asyncpg.connect(database_url)
    try:
        user = await connection.fetchrow("SELECT * FROM users")
        identity = await connection.fetchrow("SELECT * FROM identities")
    finally:
        await connection.close()
    assert (user["username"], user["email"], user["name"]) == ("Octo_Cat", "octo@example.com", "Octo Cat")
    assert user["profile_url"] == "https://github.example/Octo_Cat"
    assert user["tagline"] == "Octo_Cat's beats"
    assert (identity["provider"], identity["provider_id"], identity["provider_login"]) == ("github", "4242", "Octo_Cat")
    assert identity["provider_token"].startswith("gho_")


async def test_returning_user_refreshes_token(browsers, github, database_url):
    github.next_account = Account(id=7, login="returner", emails=[{"email": "r@example.com", "primary": True}])
    first = await browsers()
    await github_sign_in(first)
    connection = await asyncpg.connect(database_url)
    try:
        token_before = await connection.fetchval("SELECT provider_token FROM identities")
        second = await browsers()
        response = await github_sign_in(second)
        assert response.headers["location"] == "/returner"
        assert await connection.fetchval("SELECT count(*) FROM users") == 1
        token_after = await connection.fetchval("SELECT provider_token FROM identities")
    finally:
        await connection.close()
    assert token_after != token_before


async def test_forged_state_is_refused(browsers, github, database_url):
    github.next_account = Account(id=9, login="victim", emails=[{"email": "v@example.com", "primary": True}])
    browser = await browsers()
    response = await github_sign_in(browser, forge_state=True)
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert "not started here" in await flashes_on(browser, "/")
    connection = await asyncpg.connect(database_url)
    try:
        assert await connection.fetchval("SELECT count(*) FROM users") == 0
    finally:
        await connection.close()


async def test_callback_without_session_state_is_refused(browsers):
    browser = await browsers()
    response = await browser.http.get("/oauth/callbacks/github?code=abc&state=abc")
    assert response.status_code == 303
    assert "not started here" in await flashes_on(browser, "/")


async def test_github_unreachable_flashes_clear_message(browsers, github):
    github.next_account = Account(id=10, login="downer", emails=[{"email": "d@example.com", "primary": True}])
    github.unreachable = True
    browser = await browsers()
    response = await github_sign_in(browser)
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert "could not reach GitHub" in await flashes_on(browser, "/")


async def test_missing_email_flashes_clear_message(browsers, github):
    github.next_account = Account(id=11, login="noemail", emails=[])
    browser = await browsers()
    response = await github_sign_in(browser)
    assert response.headers["location"] == "/"
    assert "no verified email address" in await flashes_on(browser, "/")


async def test_pages_require_sign_in(browsers):
    browser = await browsers()
    for path in ("/someone", "/profile/settings", "/someone/songs/new"):
        response = await browser.http.get(path)
        assert response.status_code == 303 and response.headers["location"] == "/signin", path
    assert "Please sign in" in (await browser.http.get("/signin")).text
    assert (await browser.http.get("/")).headers["location"] == "/signin"


async def test_home_redirects_signed_in_user_to_profile(browsers):
    browser = await browsers("alice")
    response = await browser.http.get("/")
    assert response.headers["location"] == "/alice"


async def test_signout_ends_session_and_closes_its_sockets(browsers):
    browser = await browsers("alice")
    other_tab_session = await browsers("alice")
    async with browser.live(browser.user_id) as socket, other_tab_session.live() as other:
        await browser.page("/alice")
        response = await browser.http.post("/signout", data={"csrf_token": browser.csrf})
        assert response.headers["location"] == "/signin"
        messages = []
        with pytest.raises(ConnectionClosed):
            while True:
                messages.append(await socket.recv())
        assert socket.close_code == 4001
        assert any('"signed_out"' in message for message in messages)
        await other.send('{"type": "ping"}')
        assert (await receive(other, "pong"))["region"] == "eu-west-2"
    assert (await browser.http.get("/profile/settings")).headers["location"] == "/signin"


async def test_signout_requires_csrf_token(browsers):
    browser = await browsers("alice")
    response = await browser.http.post("/signout", data={"csrf_token": "wrong"})
    assert response.status_code == 303
    assert (await browser.http.get("/profile/settings")).status_code == 200


async def test_a_file_posted_as_the_csrf_token_is_refused_not_an_error(browsers):
    """A form field sent as a file never matches the session's token (it used to raise a 500)."""
    browser = await browsers("alice")
    response = await browser.http.post("/signout", files={"csrf_token": ("token.txt", browser.csrf.encode())})
    assert response.status_code == 303
    assert (await browser.http.get("/profile/settings")).status_code == 200


async def test_callback_url_uses_app_hostname(browsers, github, second_server):
    browser = await browsers(target=second_server)
    start = await browser.http.get("/oauth/github")
    query = parse_qs(urlsplit(start.headers["location"]).query)
    assert query["redirect_uri"] == ["http://LiveBeats.Example.TEST/oauth/callbacks/github"]
    assert query["scope"] == ["user:email"] and len(query["state"][0]) >= 20
    forged = await browser.http.get(
        "/oauth/github", headers={"Host": "evil.example", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"}
    )
    assert parse_qs(urlsplit(forged.headers["location"]).query)["redirect_uri"] == [
        "http://LiveBeats.Example.TEST/oauth/callbacks/github"
    ], "APP_HOSTNAME set: nothing of the request goes into the callback"


async def test_forwarded_scheme_is_believed_only_from_the_load_balancer(browsers, app_env, tmp_path):
    trusted = await browsers()
    forwarded = await trusted.http.get("/oauth/github", headers={"X-Forwarded-Proto": "https"})
    assert parse_qs(urlsplit(forwarded.headers["location"]).query)["redirect_uri"][0].startswith("https://")
    assert "Strict-Transport-Security" in (await trusted.http.get("/signin", headers={"X-Forwarded-Proto": "https"})).headers
    elsewhere = AppServer({**app_env, "FORWARDED_ALLOW_IPS": "10.0.0.0/16, 192.0.2.7"}, tmp_path / "server.log")
    elsewhere.start()
    try:
        untrusted = await browsers(target=elsewhere)
        forged = await untrusted.http.get("/oauth/github", headers={"X-Forwarded-Proto": "https"})
        assert parse_qs(urlsplit(forged.headers["location"]).query)["redirect_uri"][0].startswith("http://127.0.0.1")
        page = await untrusted.http.get("/signin", headers={"X-Forwarded-Proto": "https"})
        assert "Strict-Transport-Security" not in page.headers
    finally:
        elsewhere.stop()


async def test_github_login_already_used_as_username_gets_a_suffix(browsers, github):
    await browsers("taken")
    github.next_account = Account(id=31, login="Taken", emails=[{"email": "t@example.com", "primary": True}])
    browser = await browsers()
    response = await github_sign_in(browser)
    assert response.headers["location"] == "/Taken-31"


async def test_email_of_another_account_is_refused_clearly(browsers, github):
    await browsers("first")
    github.next_account = Account(id=32, login="second", emails=[{"email": "FIRST@dev.invalid", "primary": True}])
    browser = await browsers()
    response = await github_sign_in(browser)
    assert response.headers["location"] == "/"
    assert "Another account already uses the email first@dev.invalid" in await flashes_on(browser, "/")
