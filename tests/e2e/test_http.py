"""HTTP on the SOCKS port: real HTTP clients (curl, Python requests, wget,
headless Chromium) through the server's HTTP proxy, its answers to bad
input, and its setup page and PAC file. Everything on loopback."""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

import rawsocks as rs
from httporigin import PAGE_MARKER, Origin, TlsOrigin, big_body
from support import PASSWORD, USER, curl, refused_port, require, run_tool
from upstreams import silent_listener

# The handshake limit of the servers in the bad-input tests, and how much
# later than it a connection must be closed at the latest.
LIMIT = 2.0
MARGIN = 3.0


@pytest.fixture(scope="module")
def origin():
    o = Origin(big_body())
    yield o
    o.close()


@pytest.fixture(scope="module")
def tls_origin(origin, tmp_path_factory):
    o = TlsOrigin(origin.big, tmp_path_factory.mktemp("tls"))
    yield o
    o.close()


def proxy(addr, cred: str | None = None) -> str:
    host, port = addr
    h = f"[{host}]" if ":" in host else host
    return f"http://{cred + '@' if cred else ''}{h}:{port}"


def loopback_of(addr) -> str:
    """The loopback address of the listener's family: the target host."""
    return "::1" if ":" in addr[0] else "127.0.0.1"


def log(srv) -> str:
    return srv.stderr_text(tail=10**7)


def wait_log(srv, pattern: str, timeout: float = 5.0) -> re.Match:
    deadline = time.monotonic() + timeout
    while True:
        m = re.search(pattern, log(srv), re.MULTILINE)
        if m or time.monotonic() > deadline:
            assert m, f"no log line matching {pattern!r} within {timeout}s:\n{log(srv)[-3000:]}"
            return m
        time.sleep(0.05)


def describe(res) -> str:
    return f"exit {res.returncode}, stderr: {res.stderr.decode(errors='replace').strip()[:600]}"


def exchange(addr, data: bytes, timeout: float = 5.0) -> rs.CloseResult:
    """Sends data on a new connection and reads until the server closes."""
    with rs.tcp_connect(addr) as s:
        rs.send_quietly(s, data)
        return rs.wait_closed(s, timeout)


def status_of(answer: bytes) -> int:
    m = re.match(rb"HTTP/1\.[01] (\d{3}) ", answer)
    assert m, f"not an HTTP response: {answer[:200]!r}"
    return int(m.group(1))


# ---------------------------------------------------------------------------
# curl
# ---------------------------------------------------------------------------

LISTENERS = ["ipv4", "ipv6"]
MODES = {"forward": (), "tunnel": ("-p",)}


def listener(srv, which: str):
    return srv.addr4 if which == "ipv4" else srv.addr6


@pytest.mark.parametrize("which", LISTENERS)
@pytest.mark.parametrize("mode", list(MODES))
def test_curl_downloads_10_mb_byte_for_byte(server, origin, mode, which):
    addr = listener(server, which)
    url = origin.url(loopback_of(addr), "/big")
    res = curl("-x", proxy(addr), *MODES[mode], url, max_time=60)
    assert res.returncode == 0, f"curl -x {proxy(addr)} {MODES[mode]} {url}: {describe(res)}"
    got = hashlib.sha256(res.stdout).hexdigest()
    assert (len(res.stdout), got) == (len(origin.big), origin.big_sha256), "the 10 MB download is damaged"
    command = "CONNECT" if mode == "tunnel" else '"FORWARD"'
    wait_log(server, rf"session ended: .* protocol=HTTP .*command={command} target=\[?{re.escape(loopback_of(addr))}")


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
@pytest.mark.parametrize("mode", list(MODES))
def test_curl_posts_10_mb_byte_for_byte(server, origin, tmp_path, mode, framing):
    body = random.Random(1961).randbytes(10 * 1000 * 1000)
    upload = tmp_path / "upload.bin"
    upload.write_bytes(body)
    chunked = ("-H", "Transfer-Encoding: chunked") if framing == "chunked" else ()
    url = origin.url("127.0.0.1", "/upload")
    res = curl("-x", proxy(server.addr4), *MODES[mode], *chunked, "--data-binary", f"@{upload}", url, max_time=60)
    assert res.returncode == 0, describe(res)
    seen = json.loads(res.stdout)
    assert seen == {"length": len(body), "sha256": hashlib.sha256(body).hexdigest()}, (
        f"the origin received a different body ({framing}, {mode}): {seen}"
    )


def test_curl_with_the_right_password_gets_through_and_a_wrong_one_gets_407(auth_server, origin):
    url = origin.url("127.0.0.1", "/page.html")
    for mode, extra in MODES.items():
        ok = curl("-x", proxy(auth_server.addr4), "--proxy-user", f"{USER}:{PASSWORD}", *extra, url)
        assert ok.returncode == 0 and PAGE_MARKER.encode() in ok.stdout, f"{mode} with the password: {describe(ok)}"
    for cred in (None, f"{USER}:wrong-password", f"mallory:{PASSWORD}"):
        args = ("--proxy-user", cred) if cred else ()
        res = curl("-x", proxy(auth_server.addr4), *args, "-i", "-o", "-", url)
        head = res.stdout.split(b"\r\n\r\n")[0].decode()
        assert res.returncode == 0 and status_of(res.stdout) == 407, f"{cred}: {head} {describe(res)}"
        assert re.search(r'(?im)^Proxy-Authenticate: Basic realm="socksbox"', head), head
        tunnel = curl("-x", proxy(auth_server.addr4), *args, "-p", url)
        assert tunnel.returncode != 0 and b"407" in tunnel.stderr, f"tunnel with {cred}: {describe(tunnel)}"
    wait_log(auth_server, r'authentication failed for user \\?"mallory')
    # The user shows in the log's session line, as in the live view.
    wait_log(auth_server, rf'session ended: .*protocol=HTTP user={USER} command="FORWARD"')


def test_curl_keeps_one_connection_to_the_proxy_across_requests_and_hosts(server, origin):
    urls = [origin.url(h, "/peer") for h in ("127.0.0.1", "127.0.0.1", "localhost")]
    res = curl("-x", proxy(server.addr4), "-w", r" connects=%{num_connects}\n", *urls)
    assert res.returncode == 0, describe(res)
    connects = re.findall(rb"connects=(\d+)", res.stdout)
    assert connects == [b"1", b"0", b"0"], f"curl opened a new proxy connection: {res.stdout!r}"
    peers = re.findall(rb"(\S+ \d+) connects", res.stdout)
    # The two requests to 127.0.0.1 came over one connection from the
    # proxy to the origin; the one to localhost (::1) over another.
    assert peers[0] == peers[1] != peers[2], f"the proxy did not reuse its connection to the origin: {peers}"
    clients = set(re.findall(r"session started .*peer=(\S+)", log(server)))
    assert len(clients) == 1, f"more than one client connection in the log: {clients}"


def test_http_1_0_client_and_head_request(server, origin):
    res = curl("-x", proxy(server.addr4), "--http1.0", origin.url("127.0.0.1", "/page.html"))
    assert res.returncode == 0 and PAGE_MARKER.encode() in res.stdout, describe(res)
    head = curl("-x", proxy(server.addr4), "-I", origin.url("127.0.0.1", "/big"))
    assert head.returncode == 0 and status_of(head.stdout) == 200, describe(head)
    assert re.search(rb"(?im)^content-length: 10000000\r$", head.stdout), head.stdout


def test_bytes_sent_right_after_the_connect_head_are_not_lost(server, echo_target):
    # A client that sends its first bytes (a TLS ClientHello, say) in the
    # same packet as the CONNECT head.
    early = b"\x16\x03\x01 early bytes"
    with rs.tcp_connect(server.addr4) as s:
        s.sendall(f"CONNECT 127.0.0.1:{echo_target.port} HTTP/1.1\r\nHost: x\r\n\r\n".encode() + early)
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += rs.recv_exact(s, 1)
        assert answer.startswith(b"HTTP/1.1 200 "), answer
        assert rs.recv_exact(s, len(early)) == early


def test_the_origin_sees_no_hop_by_hop_header_and_no_proxy_password(auth_server, origin):
    res = curl(
        "-x", proxy(auth_server.addr4), "--proxy-user", f"{USER}:{PASSWORD}",
        "-H", "Connection: keep-alive, X-Hop-Secret",
        "-H", "X-Hop-Secret: do-not-forward",
        "-H", "Keep-Alive: timeout=5",
        "-H", "Proxy-Connection: keep-alive",
        "-H", "TE: trailers",
        "-H", "X-End-To-End: kept",
        origin.url("127.0.0.1", "/headers"),
    )  # fmt: skip
    assert res.returncode == 0, describe(res)
    seen = json.loads(res.stdout)
    names = {name.lower(): value for name, value in seen["headers"]}
    for hop in ("proxy-authorization", "proxy-connection", "connection", "x-hop-secret", "keep-alive", "te"):
        assert hop not in names, f"{hop} reached the origin: {seen['headers']}"
    assert "do-not-forward" not in res.stdout.decode()
    assert names.get("x-end-to-end") == "kept", seen
    assert re.fullmatch(r"1\.1 socksbox-[0-9a-f]{8}", names.get("via", "")), seen
    assert seen["target"] == "/headers", f"the origin got {seen['target']!r}, not the origin form"


# ---------------------------------------------------------------------------
# Python requests and wget
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("which", LISTENERS)
def test_python_requests_with_http_and_https_proxies(auth_server, origin, tls_origin, which):
    requests = pytest.importorskip("requests")
    via = proxy(listener(auth_server, which), f"{USER}:{PASSWORD}")
    proxies = {"http": via, "https": via}
    with requests.Session() as session:
        session.trust_env = False
        page = session.get(origin.url("127.0.0.1", "/page.html"), proxies=proxies, timeout=20)
        assert page.status_code == 200 and PAGE_MARKER in page.text
        big = session.get(tls_origin.url("/big"), proxies=proxies, timeout=60, verify=str(tls_origin.cert))
        assert big.status_code == 200 and hashlib.sha256(big.content).hexdigest() == origin.big_sha256
        bad = session.get(origin.url("127.0.0.1", "/page.html"), proxies={"http": proxy(auth_server.addr4)})
        assert bad.status_code == 407
    # (requests keeps its tunnel open while the response lives.)
    wait_log(
        auth_server,
        rf"session started .*protocol=HTTP user={USER} command=CONNECT target=127\.0\.0\.1:{tls_origin.port}",
    )


def test_wget_through_http_proxy_and_https_proxy(server, origin, tls_origin, tmp_path):
    require(shutil.which("wget") is not None, "wget is not installed")
    env = {**os.environ, "http_proxy": proxy(server.addr4), "https_proxy": proxy(server.addr4), "no_proxy": ""}
    out = tmp_path / "big"
    for url, extra in (
        (origin.url("127.0.0.1", "/big"), []),
        (tls_origin.url("/big"), [f"--ca-certificate={tls_origin.cert}"]),
    ):
        res = subprocess.run(
            ["wget", "-q", "--tries=1", "--timeout=20", "-O", str(out), *extra, url],
            capture_output=True, timeout=60, env=env,
        )  # fmt: skip
        assert res.returncode == 0, f"wget {url}: {describe(res)}"
        assert hashlib.sha256(out.read_bytes()).hexdigest() == origin.big_sha256, f"wget {url}: damaged"
    wait_log(server, rf'protocol=HTTP .*command="FORWARD" target=127\.0\.0\.1:{origin.port}')
    wait_log(server, rf"protocol=HTTP .*command=CONNECT target=127\.0\.0\.1:{tls_origin.port}")


# ---------------------------------------------------------------------------
# headless Chromium
# ---------------------------------------------------------------------------

CHROMIUM_QUIET = [
    "--headless",
    "--no-sandbox",  # root in CI
    "--disable-gpu",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--disable-features=OptimizationHints,MediaRouter,Translate,AutofillServerCommunication",
    "--metrics-recording-only",
]

# Chromium asks for its own services (updates, accounts) whatever the
# flags; the server refuses every destination that is not on this machine,
# before any name is resolved, so nothing leaves loopback.
LOCAL_ONLY = """
[routing]
default = "refuse"
private_direct = true
"""


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    require(path is not None, "chromium is not installed")
    return path


def dump_dom(args: list[str], url: str, profile: Path, prefix: tuple[str, ...] = ()) -> str:
    cmd = [*prefix, chromium(), *CHROMIUM_QUIET, f"--user-data-dir={profile}", *args, "--dump-dom", url]
    res = run_tool(cmd, timeout=60)
    assert res.returncode == 0, f"chromium {url}: {describe(res)}"
    return res.stdout.decode(errors="replace")


@pytest.mark.parametrize("which", LISTENERS)
def test_chromium_with_proxy_server_loads_a_page_through_the_proxy(socksbox, origin, tmp_path, which):
    srv = socksbox(config=LOCAL_ONLY)
    addr = listener(srv, which)
    url = origin.url(loopback_of(addr), "/page.html")
    before = origin.count()
    dom = dump_dom([f"--proxy-server={proxy(addr)}", "--proxy-bypass-list=<-loopback>"], url, tmp_path / "profile")
    assert PAGE_MARKER in dom, f"the page did not load: {dom[:500]}"
    assert origin.count() > before
    # The server's own record: an HTTP session to the page's origin.
    target = re.escape(f"[::1]:{origin.port}" if which == "ipv6" else f"127.0.0.1:{origin.port}")
    wait_log(srv, rf'session ended: .*protocol=HTTP user=- command="FORWARD" target={target} up=\d+ down=[1-9]')


def test_chromium_with_the_pac_file_sends_loopback_direct(socksbox, origin, tmp_path):
    # The PAC file sends this machine's own addresses direct: the page
    # loads, and no session for it goes through the server.
    srv = socksbox(config=LOCAL_ONLY)
    pac = f"http://127.0.0.1:{srv.addr4[1]}/proxy.pac"
    dom = dump_dom([f"--proxy-pac-url={pac}"], origin.url("127.0.0.1", "/page.html"), tmp_path / "profile")
    assert PAGE_MARKER in dom
    wait_log(srv, r"served /proxy\.pac")
    assert f"target=127.0.0.1:{origin.port}" not in log(srv), "the PAC file sent a loopback page through the proxy"


# ---------------------------------------------------------------------------
# the setup page and the PAC file
# ---------------------------------------------------------------------------

PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36"
)


@pytest.mark.parametrize("which", LISTENERS)
def test_setup_page_and_pac_file_name_the_address_they_were_fetched_on(server, which):
    addr = listener(server, which)
    here = proxy(addr)[len("http://") :]
    page = curl("-A", PHONE, "-i", f"http://{here}/")
    assert page.returncode == 0 and status_of(page.stdout) == 200, describe(page)
    head, _, body = page.stdout.partition(b"\r\n\r\n")
    assert re.search(rb"(?im)^content-type: text/html; charset=utf-8\r$", head), head
    text = body.decode()
    assert f"http://{here}/proxy.pac" in text and "<script" not in text.lower()
    assert 'id="password">Not needed.<' in text, text
    assert f'id="pac">http://{here}/proxy.pac<' in text, text
    for path in ("/proxy.pac", "/wpad.dat"):
        res = curl("-i", f"http://{here}{path}")
        head, _, pac = res.stdout.partition(b"\r\n\r\n")
        assert status_of(res.stdout) == 200 and b"application/x-ns-proxy-autoconfig" in head, head
        assert f'"PROXY {here}"'.encode() in pac, pac.decode()
    wait_log(server, r"served /proxy\.pac")


def test_the_setup_page_says_a_password_is_needed(auth_server):
    # Fetched with no password at all: a device reads it before it has one.
    page = curl("-A", PHONE, f"http://127.0.0.1:{auth_server.addr4[1]}/")
    assert page.returncode == 0 and b'id="password">Needed: ' in page.stdout, describe(page)
    pac = curl(f"http://127.0.0.1:{auth_server.addr4[1]}/proxy.pac")
    assert b"FindProxyForURL" in pac.stdout


def test_the_setup_page_speaks_the_language_the_device_asks_for(server):
    # A Russian phone, then one that weighs Chinese above English, then
    # Traditional Chinese only, which the page is not written in.
    url = f"http://127.0.0.1:{server.addr4[1]}/"
    cases = [
        ("ru-RU,ru;q=0.9,en;q=0.8", "ru", 'id="password">Не нужен.<'),
        ("en;q=0.5, zh-CN;q=0.8", "zh-CN", 'id="password">不需要。<'),
        ("zh-TW", "en", 'id="password">Not needed.<'),
    ]
    for asked, tag, words in cases:
        page = curl("-A", PHONE, "-H", f"Accept-Language: {asked}", "-i", url)
        assert page.returncode == 0 and status_of(page.stdout) == 200, describe(page)
        head, _, body = page.stdout.partition(b"\r\n\r\n")
        text = body.decode()
        assert re.search(rf"(?im)^content-language: {re.escape(tag)}\r$".encode(), head), (asked, head)
        assert re.search(rb"(?im)^vary: accept-language\r$", head), (asked, head)
        assert f'<html lang="{tag}">' in text and words in text, (asked, text[:800])
        assert f'id="pac">http://127.0.0.1:{server.addr4[1]}/proxy.pac<' in text, (asked, text)
    # The PAC file is the same for everyone: no Vary.
    pac = curl("-H", "Accept-Language: ru", "-i", f"http://127.0.0.1:{server.addr4[1]}/proxy.pac")
    head, _, _ = pac.stdout.partition(b"\r\n\r\n")
    assert status_of(pac.stdout) == 200 and b"accept-language" not in head.lower(), head


PAC_CASES = [
    ("http://www.example.com/", "www.example.com", "proxy"),  # a public name
    ("http://203.0.113.9/", "203.0.113.9", "proxy"),  # a public address
    ("http://printer/", "printer", "DIRECT"),  # a plain name
    ("http://nas.local/", "nas.local", "DIRECT"),
    ("http://localhost:8080/", "localhost", "DIRECT"),
    ("http://192.168.1.20/", "192.168.1.20", "DIRECT"),  # private addresses
    ("http://10.1.2.3/", "10.1.2.3", "DIRECT"),
    ("http://172.20.0.1/", "172.20.0.1", "DIRECT"),
    ("http://169.254.1.1/", "169.254.1.1", "DIRECT"),
    ("http://127.0.0.1/", "127.0.0.1", "DIRECT"),
    ("http://[fd00::1]/", "fd00::1", "DIRECT"),
    ("http://[fe80::1]/", "fe80::1", "DIRECT"),
    ("http://[2001:db8::1]/", "2001:db8::1", "proxy"),
]


@pytest.mark.parametrize("which", LISTENERS)
def test_a_pac_evaluator_sends_public_names_through_and_the_rest_direct(server, which):
    parser = pytest.importorskip("pypac.parser")
    addr = listener(server, which)
    here = proxy(addr)[len("http://") :]
    res = curl(f"http://{here}/proxy.pac")
    pac = parser.PACFile(res.stdout.decode())
    for url, host, want in PAC_CASES:
        got = pac.find_proxy_for_url(url, host)
        assert got == (f"PROXY {here}" if want == "proxy" else "DIRECT"), f"{url}: {got}"


# ---------------------------------------------------------------------------
# answers to refused and failed requests
# ---------------------------------------------------------------------------


def test_failures_get_their_http_status_and_a_text_body(socksbox, origin):
    srv = socksbox("--deny-target", "127.0.0.2/32", "--connect-timeout", "1s")
    silent, silent_port = silent_listener()
    closed, closed_port = refused_port()
    with silent, closed:
        chained = socksbox("--upstream", f"socks5://127.0.0.1:{silent_port}", "--connect-timeout", "1s")
        cases = [
            (srv, f"GET http://127.0.0.2:{origin.port}/ HTTP/1.1\r\nHost: a\r\n\r\n", 403, "destination policy"),
            (srv, f"CONNECT 127.0.0.2:{origin.port} HTTP/1.1\r\n\r\n", 403, "destination policy"),
            (
                srv,
                "GET http://nothing-here.invalid/ HTTP/1.1\r\nHost: nothing-here.invalid\r\n\r\n",
                502,
                "cannot resolve",
            ),
            (srv, f"GET http://127.0.0.1:{closed_port}/ HTTP/1.1\r\nHost: a\r\n\r\n", 502, "refused"),
            (chained, "GET http://origin.test/ HTTP/1.1\r\nHost: origin.test\r\n\r\n", 504, "did not"),
            (srv, "GET https://127.0.0.1/ HTTP/1.1\r\nHost: a\r\n\r\n", 501, "https"),
            (srv, "GET ftp://127.0.0.1/ HTTP/1.1\r\nHost: a\r\n\r\n", 501, "ftp"),
        ]
        for target_srv, request, status, why in cases:
            res = exchange(target_srv.addr4, request.encode(), timeout=8)
            assert res.closed, f"{request!r}: the connection stayed open"
            assert status_of(res.data) == status, f"{request!r}: {res.data[:300]!r}"
            head, _, body = res.data.partition(b"\r\n\r\n")
            assert b"text/plain" in head and why.encode() in body, f"{request!r}: {res.data[:400]!r}"


# ---------------------------------------------------------------------------
# bad input: an answer and a closed connection within the handshake limit
# ---------------------------------------------------------------------------


@pytest.fixture
def strict(socksbox):
    return socksbox("--handshake-timeout", f"{LIMIT:g}s")


def assert_answered(res: rs.CloseResult, status: int, what: str, within: float = MARGIN) -> None:
    assert res.closed, f"{what}: still open after {res.after:.1f}s (received {res.data[:200]!r})"
    assert status_of(res.data) == status, f"{what}: {res.data[:300]!r}"
    assert res.after < within, f"{what}: closed only after {res.after:.1f}s"


BAD_HEADS = {
    "garbage-request-line": (b"garbage in, garbage out\r\n\r\n", 400),
    "binary-after-a-letter": (b"G\x00\x01\x02\x03", 400),
    "bad-version": (b"GET http://a/ HTTP/7.1\r\nHost: a\r\n\r\n", 400),
    "connect-without-port": (b"CONNECT example.test HTTP/1.1\r\nHost: example.test\r\n\r\n", 400),
    "connect-with-user": (b"CONNECT u@example.test:443 HTTP/1.1\r\n\r\n", 400),
    "two-hosts": (b"GET http://a/ HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    "space-before-colon": (b"GET http://a/ HTTP/1.1\r\nHost : a\r\n\r\n", 400),
}


@pytest.mark.parametrize("name", list(BAD_HEADS))
def test_a_malformed_request_gets_400_at_once(strict, origin, name):
    data, status = BAD_HEADS[name]
    before = origin.count()
    res = exchange(strict.addr4, data)
    # At once: well before the handshake limit would close it.
    assert_answered(res, status, name, within=LIMIT / 2)
    assert origin.count() == before


def test_a_head_over_64_kib_gets_431(strict):
    with rs.tcp_connect(strict.addr4) as s:
        rs.send_quietly(s, b"GET http://127.0.0.1/ HTTP/1.1\r\nHost: a\r\nX-Long: " + b"a" * (70 * 1024))
        assert_answered(rs.wait_closed(s, LIMIT + MARGIN), 431, "a 70 KiB header")


def test_a_head_that_never_ends_gets_408_at_the_limit(strict):
    with rs.tcp_connect(strict.addr4) as s:
        rs.send_quietly(s, b"GET http://127.0.0.1/ HTTP/1.1\r\nHost: a\r\n")
        res = rs.wait_closed(s, LIMIT + MARGIN)
    assert_answered(res, 408, "an unfinished head", within=LIMIT + MARGIN)
    assert res.after >= LIMIT - 0.2, f"closed after {res.after:.2f}s, before the limit"


def test_a_client_sending_one_header_byte_at_a_time_is_closed_at_the_limit(strict):
    head = b"GET http://127.0.0.1/ HTTP/1.1\r\nHost: a\r\nX-Slow: " + b"s" * 100 + b"\r\n\r\n"
    with rs.tcp_connect(strict.addr4) as s:
        start = time.monotonic()
        sent = 0
        closed = None
        while sent < len(head) and time.monotonic() - start < LIMIT + MARGIN:
            if not rs.send_quietly(s, head[sent : sent + 1]):
                break
            sent += 1
            s.settimeout(0.5)
            try:
                closed = s.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                closed = b""
            break
        took = time.monotonic() - start
    assert closed is not None, f"still open after {took:.1f}s and {sent} bytes, one every 0.5 s"
    assert status_of(closed) == 408 and took < LIMIT + MARGIN, f"{closed[:100]!r} after {took:.1f}s"


def test_content_length_with_transfer_encoding_is_refused_and_never_forwarded(strict, origin):
    before = origin.count()
    smuggle = (
        f"POST http://127.0.0.1:{origin.port}/upload HTTP/1.1\r\nHost: a\r\n"
        "Content-Length: 44\r\nTransfer-Encoding: chunked\r\n\r\n"
        "0\r\n\r\nGET /headers HTTP/1.1\r\nHost: a\r\n\r\n"
    ).encode()
    assert_answered(exchange(strict.addr4, smuggle), 400, "Content-Length and Transfer-Encoding", within=LIMIT / 2)
    assert origin.count() == before, "a request with both framings reached the origin"


def test_a_content_length_that_lies_is_closed_at_the_limit(strict, origin):
    request = f"POST http://127.0.0.1:{origin.port}/upload HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n"
    with rs.tcp_connect(strict.addr4) as s:
        rs.send_quietly(s, request.encode() + b"only ten b")
        res = rs.wait_closed(s, LIMIT + MARGIN)
    assert_answered(res, 408, "a body shorter than its Content-Length", within=LIMIT + MARGIN)


@pytest.mark.parametrize("size", [b"ffffffffffffffffffffffff", b"zz", b"-1", b"5 5"])
def test_a_bad_chunk_size_gets_400(strict, origin, size):
    request = f"POST http://127.0.0.1:{origin.port}/upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
    res = exchange(strict.addr4, request.encode() + size + b"\r\nhello\r\n0\r\n\r\n")
    assert_answered(res, 400, f"chunk size {size!r}", within=LIMIT / 2)


def test_300_half_open_http_connections_do_not_disturb_a_download(strict, origin):
    sockets = []
    try:
        for i in range(300):
            s = rs.tcp_connect(strict.addr4)
            rs.send_quietly(s, b"GET http://127.0.0.1/ HTTP/1.1\r\nHost: a\r\nX-N: %d" % i)
            sockets.append(s)
        started = time.monotonic()
        res = curl("-x", proxy(strict.addr4), origin.url("127.0.0.1", "/big"), max_time=30)
        assert res.returncode == 0 and hashlib.sha256(res.stdout).hexdigest() == origin.big_sha256, describe(res)
        assert time.monotonic() - started < LIMIT, "the download had to wait for the half-open connections"
        # Each is answered (408) and closed near the limit.
        deadline = time.monotonic() + LIMIT + MARGIN
        statuses = []
        for s in sockets:
            got = rs.wait_closed(s, max(0.1, deadline - time.monotonic()))
            assert got.closed, "a half-open connection is still open after the limit"
            statuses.append(status_of(got.data))
        assert set(statuses) == {408}, f"answers: {sorted(set(statuses))}"
    finally:
        for s in sockets:
            s.close()
    assert strict.alive()


def test_a_keep_alive_connection_left_idle_is_closed_without_an_answer(socksbox, origin):
    srv = socksbox(config='[http]\nkeep_alive = "1s"\n')
    with rs.tcp_connect(srv.addr4) as s:
        s.sendall(f"GET http://127.0.0.1:{origin.port}/page.html HTTP/1.1\r\nHost: a\r\n\r\n".encode())
        first = b""
        while PAGE_MARKER.encode() not in first:
            chunk = s.recv(65536)
            assert chunk, f"closed before the page: {first!r}"
            first += chunk
        res = rs.wait_closed(s, 1 + MARGIN)
    assert res.how == "eof" and res.data == b"", f"idle keep-alive connection: {res.how}, {res.data[:100]!r}"


def test_socks_still_works_on_the_same_port_beside_http(server, origin):
    # The same port, one SOCKS5 and one HTTP client at once.
    results = {}

    def fetch(kind, args):
        results[kind] = curl(*args, origin.url("127.0.0.1", "/big"), max_time=60)

    threads = [
        threading.Thread(target=fetch, args=("socks", ("-x", f"socks5h://127.0.0.1:{server.addr4[1]}"))),
        threading.Thread(target=fetch, args=("http", ("-x", proxy(server.addr4)))),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    for kind, res in results.items():
        assert res.returncode == 0 and hashlib.sha256(res.stdout).hexdigest() == origin.big_sha256, kind
    assert len(results) == 2
