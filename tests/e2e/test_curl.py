"""curl through the server: every proxy scheme, both listeners, passwords."""

from __future__ import annotations

import hashlib

import pytest

from support import PASSWORD, USER, curl


def proxy_url(scheme: str, addr, cred: str | None = None) -> str:
    host, port = addr
    h = f"[{host}]" if ":" in host else host
    at = f"{cred}@" if cred else ""
    return f"{scheme}://{at}{h}:{port}"


def describe(res) -> str:
    return f"curl exit {res.returncode}, stderr: {res.stderr.decode(errors='replace').strip()[:500]}"


def assert_small_ok(res, http_target, how: str):
    assert res.returncode == 0, f"{how}: curl failed: {describe(res)}"
    assert res.stdout == http_target.small, f"{how}: wrong body {res.stdout[:200]!r}"


def assert_big_ok(res, http_target, how: str):
    assert res.returncode == 0, f"{how}: curl failed: {describe(res)}"
    got = hashlib.sha256(res.stdout).hexdigest()
    assert len(res.stdout) == len(http_target.big) and got == http_target.big_sha256, (
        f"{how}: the 8 MiB download is corrupt: got {len(res.stdout)} bytes sha256 {got}, "
        f"expected {len(http_target.big)} bytes sha256 {http_target.big_sha256}"
    )


BIG_CASES = [
    ("socks5", "127.0.0.1"),
    ("socks5h", "localhost"),
    ("socks5", "::1"),
    ("socks4", "127.0.0.1"),
    ("socks4a", "localhost"),
]


@pytest.mark.parametrize("scheme,target", BIG_CASES, ids=[f"{s}-{t}" for s, t in BIG_CASES])
def test_curl_8mib_download_is_byte_exact_via_ipv4_listener(server, http_target, scheme, target):
    res = curl("-x", proxy_url(scheme, server.addr4), http_target.url(target, "/big"), max_time=40)
    assert_big_ok(res, http_target, f"{scheme} proxy on {server.addr4} to {target}")


IPV6_CASES = [
    ("socks5h", "localhost", "/big"),
    ("socks5", "::1", "/big"),
    ("socks5", "127.0.0.1", "/small"),
    ("socks4", "127.0.0.1", "/small"),
    ("socks4a", "localhost", "/small"),
]


@pytest.mark.parametrize("scheme,target,path", IPV6_CASES, ids=[f"{s}-{t}{p}" for s, t, p in IPV6_CASES])
def test_curl_works_via_ipv6_listener(server, http_target, scheme, target, path):
    res = curl("-x", proxy_url(scheme, server.addr6), http_target.url(target, path), max_time=40)
    how = f"{scheme} proxy on [::1]:{server.addr6[1]} to {target}{path}"
    if path == "/big":
        assert_big_ok(res, http_target, how)
    else:
        assert_small_ok(res, http_target, how)


OPTION_STYLES = ["--socks5-hostname", "--socks5", "--socks4", "--socks4a"]


@pytest.mark.parametrize("option", OPTION_STYLES)
def test_curl_proxy_option_styles_fetch_a_page(server, http_target, option):
    host, port = server.addr4
    target = "127.0.0.1" if option in ("--socks5", "--socks4") else "localhost"
    res = curl(option, f"{host}:{port}", http_target.url(target, "/small"))
    assert_small_ok(res, http_target, f"curl {option} {host}:{port}")


def test_curl_with_correct_password_succeeds(auth_server, http_target):
    res = curl(
        "-x",
        proxy_url("socks5h", auth_server.addr4, f"{USER}:{PASSWORD}"),
        http_target.url("localhost", "/big"),
        max_time=40,
    )
    assert_big_ok(res, http_target, "socks5h with the right user:password")


def test_curl_proxy_user_option_over_ipv6_listener_succeeds(auth_server, http_target):
    res = curl(
        "--proxy-user",
        f"{USER}:{PASSWORD}",
        "-x",
        proxy_url("socks5", auth_server.addr6),
        http_target.url("::1", "/small"),
    )
    assert_small_ok(res, http_target, "socks5 with --proxy-user via [::1]")


def test_curl_with_wrong_password_fails(auth_server, http_target):
    res = curl(
        "-x",
        proxy_url("socks5h", auth_server.addr4, f"{USER}:wrong-{PASSWORD}"),
        http_target.url("localhost", "/small"),
    )
    assert res.returncode != 0, "curl with a wrong password succeeded; the server must reject it"
    assert http_target.small not in res.stdout, "the page came through despite the wrong password"


def test_curl_with_unknown_user_fails(auth_server, http_target):
    res = curl(
        "-x", proxy_url("socks5", auth_server.addr4, f"mallory:{PASSWORD}"), http_target.url("127.0.0.1", "/small")
    )
    assert res.returncode != 0, "curl with an unknown user name succeeded"
    assert http_target.small not in res.stdout


def test_curl_without_password_fails_when_required(auth_server, http_target):
    res = curl("-x", proxy_url("socks5h", auth_server.addr4), http_target.url("localhost", "/small"))
    assert res.returncode != 0, "curl without credentials succeeded though passwords are required"
    assert http_target.small not in res.stdout


@pytest.mark.parametrize("scheme", ["socks4", "socks4a"])
def test_curl_socks4_refused_when_passwords_required(auth_server, http_target, scheme):
    target = "127.0.0.1" if scheme == "socks4" else "localhost"
    res = curl("-x", proxy_url(scheme, auth_server.addr4), http_target.url(target, "/small"))
    assert res.returncode != 0, f"{scheme} was allowed although passwords are required"
    assert http_target.small not in res.stdout


@pytest.mark.parametrize("scheme", ["socks4", "socks4a"])
def test_curl_socks4_allowed_with_socks4_without_password(socksbox, http_target, scheme):
    srv = socksbox("--user", f"{USER}:{PASSWORD}", "--socks4-without-password")
    target = "127.0.0.1" if scheme == "socks4" else "localhost"
    res = curl("-x", proxy_url(scheme, srv.addr4), http_target.url(target, "/small"))
    assert_small_ok(res, http_target, f"{scheme} with --socks4-without-password")
    # SOCKS5 still needs the password in that mode.
    res5 = curl("-x", proxy_url("socks5h", srv.addr4), http_target.url("localhost", "/small"))
    assert res5.returncode != 0, "--socks4-without-password must not make SOCKS5 password-free"


def test_curl_users_file_credentials_work(socksbox, http_target, tmp_path):
    users = tmp_path / "users.txt"
    users.write_text("# socksbox users\n\nbob:hunter2\n  \n# carol:nope\ncarol:pa ss\n")
    srv = socksbox("--users-file", str(users))
    ok = curl("-x", proxy_url("socks5h", srv.addr4, "bob:hunter2"), http_target.url("localhost", "/small"))
    assert_small_ok(ok, http_target, "user bob from --users-file")
    ok2 = curl(
        "--proxy-user", "carol:pa ss", "-x", proxy_url("socks5", srv.addr4), http_target.url("127.0.0.1", "/small")
    )
    assert_small_ok(ok2, http_target, "user carol (password with a space) from --users-file")
    bad = curl("-x", proxy_url("socks5h", srv.addr4, "carol:nope"), http_target.url("localhost", "/small"))
    assert bad.returncode != 0, "a password from a '#' comment line in the users file was accepted"


def test_curl_config_file_users_work(socksbox, http_target):
    config = '[auth]\nrequired = true\nusers = [{ name = "dave", password = "from-config" }]\n'
    srv = socksbox(config=config)
    ok = curl("-x", proxy_url("socks5h", srv.addr4, "dave:from-config"), http_target.url("localhost", "/small"))
    assert_small_ok(ok, http_target, "user dave from the TOML config")
    bad = curl("-x", proxy_url("socks5h", srv.addr4), http_target.url("localhost", "/small"))
    assert bad.returncode != 0, "config says auth.required = true but a client without password got through"
