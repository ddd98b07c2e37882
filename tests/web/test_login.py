"""Log-in, sessions, CSRF and lock-out over HTTP; the password command of the CLI."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
from sqlalchemy import Engine, update

from nordcert.accounts import credentials
from nordcert.accounts import service as accounts
from nordcert.accounts.tables import login_failures
from nordcert.config import Settings
from nordcert.db import transaction
from tests.web.conftest import PASSWORD, World, csrf_of, log_in


def test_log_in_and_out(http: httpx.Client, world: World) -> None:
    assert http.get("/search").status_code == 303  # sent to log in
    assert http.get("/search").headers["location"] == "/login?next=/search"
    answer = log_in(http, world.alpha.email)
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    cookie = answer.headers["set-cookie"]
    assert "nordcert_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    home = http.get("/")
    assert home.status_code == 200 and world.alpha.email in home.text
    assert "default-src 'self'" in home.headers["content-security-policy"]
    session = http.cookies["nordcert_session"]

    assert http.post("/logout", data={"csrf": "forged"}).status_code == 403
    bye = http.post("/logout", data={"csrf": csrf_of(home.text)})
    assert bye.status_code == 303 and bye.headers["location"] == "/login?bye=1"
    # The old cookie is dead on the server, not only forgotten by this browser.
    replay = httpx.get(f"{http.base_url}/search", cookies={"nordcert_session": session})
    assert replay.status_code == 303 and replay.headers["location"].startswith("/login")


def test_wrong_passwords_lock_the_account(http: httpx.Client, world: World, engine: Engine,
                                          settings: Settings) -> None:
    for _ in range(settings.login_max_failures - 1):
        wrong = log_in(http, world.boreal.email, "not the password")
        assert wrong.status_code == 401 and "Wrong email or password." in wrong.text
    locking = log_in(http, world.boreal.email, "not the password")
    assert "now locked" in locking.text
    locked = log_in(http, world.boreal.email, PASSWORD)
    assert locked.status_code == 401 and "locked after repeated failed log-ins" in locked.text
    unknown = log_in(http, "nobody@nowhere.example", PASSWORD)
    assert unknown.status_code == 401 and "Wrong email or password." in unknown.text

    with transaction(engine) as conn:  # the lock-out ends
        conn.execute(update(login_failures).values(locked_until=1))
    assert log_in(http, world.boreal.email, PASSWORD).status_code == 303


def test_forms_need_the_csrf_token_of_their_session(http: httpx.Client, world: World, base_url: str) -> None:
    refused = http.post("/login", data={"email": world.alpha.email, "password": PASSWORD, "csrf": "x"})
    assert refused.status_code == 403 and "expired" in refused.text
    log_in(http, world.alpha.email)
    with httpx.Client(base_url=base_url) as other:
        log_in(other, world.boreal.email)
        foreign = csrf_of(other.get("/submit").text)
    answer = http.post("/submit", data={"csrf": foreign, "value": "evil.example"})
    assert answer.status_code == 403


def test_next_never_leaves_the_site(http: httpx.Client, world: World) -> None:
    token = csrf_of(http.get("/login").text)
    answer = http.post("/login", data={"email": world.alpha.email, "password": PASSWORD, "csrf": token,
                                       "next": "//evil.example/"})
    assert answer.headers["location"] == "/"


def test_password_rules(engine: Engine, world: World) -> None:
    with transaction(engine) as conn:
        try:
            credentials.set_password(conn, world.alpha.email, "short")
        except accounts.Invalid as exc:
            assert "at least 12" in exc.message
        else:
            raise AssertionError("a short password was accepted")
        stored = conn.execute(accounts.select(accounts.users.c.password_hash)
                              .where(accounts.users.c.email == world.alpha.email)).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_password_command_reads_stdin(settings: Settings, engine: Engine, world: World, http: httpx.Client) -> None:
    env = {**os.environ, "NORDCERT_HOME": str(settings.home)}
    if settings.database_url:
        env["NORDCERT_DATABASE_URL"] = settings.database_url
    done = subprocess.run([sys.executable, "-m", "nordcert", "user", "password", world.carol.email],
                          input="a brand new password\n", check=False, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"Password set for {world.carol.email}" in done.stdout
    assert log_in(http, world.carol.email, "a brand new password").status_code == 303
    short = subprocess.run([sys.executable, "-m", "nordcert", "user", "password", world.carol.email],
                           input="short\n", check=False, capture_output=True, text=True, env=env, timeout=120)
    assert short.returncode == 1 and "at least 12 characters" in short.stderr
