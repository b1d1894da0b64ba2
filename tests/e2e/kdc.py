"""A real MIT Kerberos realm of the tests' own, on loopback.

`Realm.start(dir)` writes a krb5.conf and a kdc.conf into `dir`, creates
the realm's database with `kdb5_util`, and runs Debian's `krb5kdc` in the
foreground on a free loopback port. Principals are added with
`kadmin.local`; users get tickets with `kinit` into a credentials cache of
their own. Nothing touches the machine's own Kerberos configuration: every
program gets KRB5_CONFIG and KRB5_KDC_PROFILE pointing into `dir`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

REALM = "SOCKSBOX.TEST"
MASTER_PASSWORD = "master-of-the-test-realm"


def free_port() -> int:
    """A port free for TCP and UDP on 127.0.0.1 (the KDC listens on both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                try:
                    u.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
    raise RuntimeError("no port free for both TCP and UDP")


def missing_programs() -> list[str]:
    return [p for p in ("krb5kdc", "kdb5_util", "kadmin.local", "kinit", "klist") if not shutil.which(p)]


class Realm:
    def __init__(self, dir: Path):
        self.dir = dir
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.log = dir / "kdc.log"

    # -- the environment every program of the realm runs in -----------------

    def env(self, ccache: Path | None = None, keytab: Path | None = None) -> dict:
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower() and not k.startswith("KRB5")}
        env["KRB5_CONFIG"] = str(self.dir / "krb5.conf")
        env["KRB5_KDC_PROFILE"] = str(self.dir / "kdc.conf")
        env["KRB5_TRACE"] = str(self.dir / "trace.log")
        if ccache is not None:
            env["KRB5CCNAME"] = f"FILE:{ccache}"
        if keytab is not None:
            env["KRB5_KTNAME"] = f"FILE:{keytab}"
        return env

    def _run(self, *cmd, input: str | None = None, env: dict | None = None) -> str:
        out = subprocess.run(list(cmd), input=input, env=env or self.env(), capture_output=True, text=True, timeout=30)
        if out.returncode != 0:
            raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({out.returncode}): {out.stdout}{out.stderr}")
        return out.stdout

    # -- the realm ----------------------------------------------------------

    def start(self) -> Realm:
        db = self.dir / "db"
        db.mkdir(parents=True, exist_ok=True)
        (self.dir / "krb5.conf").write_text(
            f"""[libdefaults]
    default_realm = {REALM}
    dns_lookup_kdc = false
    dns_lookup_realm = false
    dns_canonicalize_hostname = false
    rdns = false
    udp_preference_limit = 1
    ticket_lifetime = 1h
[realms]
    {REALM} = {{
        kdc = 127.0.0.1:{self.port}
    }}
[domain_realm]
    localhost = {REALM}
    127.0.0.1 = {REALM}
"""
        )
        (self.dir / "kdc.conf").write_text(
            f"""[kdcdefaults]
    kdc_listen = 127.0.0.1:{self.port}
    kdc_tcp_listen = 127.0.0.1:{self.port}
[realms]
    {REALM} = {{
        database_name = {db}/principal
        key_stash_file = {db}/stash
        acl_file = {self.dir}/kadm5.acl
        max_life = 10h
        max_renewable_life = 0
        supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
    }}
[logging]
    kdc = FILE:{self.log}
"""
        )
        (self.dir / "kadm5.acl").write_text("")
        self._run("kdb5_util", "create", "-s", "-r", REALM, "-P", MASTER_PASSWORD)
        with open(self.dir / "kdc.stderr", "wb") as stderr:
            self.proc = subprocess.Popen(
                ["krb5kdc", "-n", "-r", REALM], env=self.env(), stdout=subprocess.DEVNULL, stderr=stderr
            )
        deadline = time.monotonic() + 15
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"krb5kdc exited: {(self.dir / 'kdc.stderr').read_text()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError as e:
                if time.monotonic() > deadline:
                    raise RuntimeError("krb5kdc did not start listening within 15 s") from e
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    # -- principals ---------------------------------------------------------

    def add_user(self, name: str, password: str, **options) -> str:
        """Adds NAME@REALM with `password`; options such as
        maxlife="5 seconds" go to addprinc as -maxlife."""
        flags = []
        for key, value in options.items():
            flags += [f"-{key}", str(value)]
        self._run("kadmin.local", "-q", " ".join(["addprinc", *(f'"{f}"' for f in flags), "-pw", password, name]))
        return f"{name}@{REALM}"

    def add_service(self, principal: str, keytab: Path) -> str:
        """Adds a service principal (such as rcmd/localhost) with a random
        key, and writes its key into `keytab`."""
        self._run("kadmin.local", "-q", f"addprinc -randkey {principal}")
        self._run("kadmin.local", "-q", f"ktadd -k {keytab} {principal}")
        return f"{principal}@{REALM}"

    def kinit(self, name: str, password: str, ccache: Path, lifetime: str | None = None) -> dict:
        """Gets `name` a ticket into `ccache`; the environment that uses it."""
        env = self.env(ccache=ccache)
        cmd = ["kinit"]
        if lifetime:
            cmd += ["-l", lifetime]
        self._run(*cmd, name, input=password + "\n", env=env)
        return env
