"""A standalone server in one container mode with an attacker and a victim namespace.

The victim has a warm Python action holding a secret parameter; the attacker creates the
actions of `attacks/` with the real `wsk` and invokes them. The test process (root) finds
what an attacker would look for (the victim's runtime addresses, its processes) and hands
it to the attack: the attack is then as strong as it can be, and the only thing between it
and the victim is the isolation under test.

The data directory is world-readable (0755, as /var/lib/<service> directories are), so that
only the containers' isolation keeps an action from the store file.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from pywhisk.common.entities import Identity
from tests.support.server import StandaloneServer

ATTACKS = Path(__file__).parent / "attacks"
SECRET_PATTERN = r"SECRET-[0-9a-f]{32}"
CODE_PATTERN = r"VICTIMCODE-[0-9a-f]{16}"
KEY_PATTERN = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:[0-9A-Za-z]{64}"
LIMITS = {"invocationsPerMinute": 10_000, "concurrentInvocations": 100}


@dataclass
class Victim:
    instance: str
    pid: int
    ppid: int
    cwd: str


class Platform:
    def __init__(self, mode: str, containers_url: str = "") -> None:
        """`mode`: process or docker; `containers_url`: that mode's URL with options."""
        self.mode = mode
        self.data_dir = Path(tempfile.mkdtemp(prefix=f"pywhisk-iso-{mode}-"))
        os.chmod(self.data_dir, 0o755)
        self.work = Path(tempfile.mkdtemp(prefix="pywhisk-iso-wsk-"))
        self.secret = f"SECRET-{secrets.token_hex(16)}"
        self.code_marker = f"VICTIMCODE-{secrets.token_hex(8)}"
        env = {
            "PYWHISK_CONTAINERS_URL": containers_url or f"{mode}://",
            "PYWHISK_PAUSE_GRACE": "0",  # a paused victim would hide a reachable one
        }
        self.server = StandaloneServer(self.data_dir / "server", env=env)
        self.attacker: Identity | None = None
        self.victim_ns: Identity | None = None

    # -- set-up ------------------------------------------------------------------------------

    def start(self) -> None:
        if self.mode == "docker":
            from pywhisk.deploy.images import ensure_images

            ensure_images(progress=lambda line: None)
        self.server.start(timeout=120)
        tag = secrets.token_hex(3)
        self.attacker = self.server.create_namespace(f"attacker{tag}", **LIMITS)
        self.victim_ns = self.server.create_namespace(f"victim{tag}", **LIMITS)
        code = (ATTACKS / "victim.py").read_text().replace("VICTIM_CODE_MARKER", self.code_marker)
        victim_file = self.work / "victim.py"
        victim_file.write_text(code)
        self.wsk(self.victim_ns, "action", "create", "victim", str(victim_file))
        self.wsk(self.victim_ns, "action", "update", "victim", "-p", "secret", self.secret)

    def stop(self) -> None:
        self.server.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)
        shutil.rmtree(self.work, ignore_errors=True)

    # -- the real wsk and the API -------------------------------------------------------------

    def wsk(
        self, who: Identity, *args: str, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        props = self.work / f"{who.namespace}.wskprops"
        props.write_text(f"APIHOST={self.server.url}\nAUTH={who.auth}\n")
        executable = shutil.which("wsk")
        assert executable, "the wsk CLI is not installed (pip install -e .)"
        env = {k: v for k, v in os.environ.items() if not k.startswith("__OW_")}
        env["WSK_CONFIG_FILE"] = str(props)
        done = subprocess.run(
            [executable, *args], env=env, cwd=self.work, capture_output=True, text=True, timeout=180
        )
        if check and done.returncode != 0:
            raise AssertionError(f"wsk {' '.join(args)} exited {done.returncode}:\n{done.stderr}")
        return done

    def api(self, who: Identity) -> httpx.Client:
        uuid, _, key = who.auth.partition(":")
        return httpx.Client(base_url=f"{self.server.url}/api/v1", auth=(uuid, key), timeout=120)

    def attack(self, name: str, *flags: str, **params: Any) -> dict[str, Any]:
        """Create (or update) attack `name` in the attacker's namespace, invoke it blocking
        with `params`, and return its activation record."""
        assert self.attacker is not None
        self.wsk(self.attacker, "action", "update", name, str(ATTACKS / f"{name}.py"), *flags)
        with self.api(self.attacker) as api:
            answer = api.post(
                f"/namespaces/_/actions/{name}", params={"blocking": "true"}, json=params
            )
        assert answer.status_code in (200, 502), answer.text
        return dict(answer.json())

    def warm_victim(self) -> Victim:
        """Invoke the victim (warm after the first time) and read where it runs."""
        assert self.victim_ns is not None
        with self.api(self.victim_ns) as api:
            answer = api.post(
                "/namespaces/_/actions/victim", params={"blocking": "true", "result": "true"}
            )
        answer.raise_for_status()
        result = answer.json()
        assert result["secret"] == self.secret
        return Victim(result["instance"], result["pid"], result["ppid"], result["cwd"])

    @property
    def victim_key(self) -> str:
        assert self.victim_ns is not None
        return self.victim_ns.auth

    # -- what an attacker would look for -------------------------------------------------------

    def runtime_endpoints(self) -> list[str]:
        """Where this server's runtimes listen: `host:port` or `unix:/path`."""
        if self.mode == "docker":
            return docker_endpoints(self.server_pid)
        return process_endpoints(self.server_pid)

    @property
    def server_pid(self) -> int:
        assert self.server.process is not None
        return self.server.process.pid

    def processes_with(self, marker: str) -> list[int]:
        return [pid for pid, cmd in host_processes() if marker in cmd]


def host_processes() -> list[tuple[int, str]]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            found.append((int(entry), cmd.decode(errors="replace")))
    return found


def descendants(root: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                text = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(text.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def process_endpoints(server_pid: int) -> list[str]:
    """TCP ports on loopback and Unix sockets held by the server's descendants, and any
    socket file under the process containers' directories."""
    inodes: set[str] = set()
    for pid in descendants(server_pid):
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if match := re.fullmatch(r"socket:\[(\d+)\]", link):
                inodes.add(match.group(1))
    endpoints = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # LISTEN
                endpoints.append(f"127.0.0.1:{int(fields[1].rsplit(':', 1)[1], 16)}")
    for line in Path("/proc/net/unix").read_text().splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 8 and fields[6] in inodes and fields[7].startswith("/"):
            endpoints.append(f"unix:{fields[7]}")
    # Only this server's invoker's directories (`invoker<N>.<pid>.…`): others' are not ours
    # to attack.
    for root in Path(tempfile.gettempdir()).glob(f"pywhisk-containers*/*.{server_pid}.*"):
        for path in root.rglob("*"):
            try:
                if stat.S_ISSOCK(path.lstat().st_mode):
                    endpoints.append(f"unix:{path}")
            except OSError:
                continue
    return sorted(set(endpoints))


def docker_endpoints(server_pid: int) -> list[str]:
    """The own address (port 8080) of every container this server's invoker started."""
    listed = subprocess.run(
        ["docker", "ps", "--filter", "label=pywhisk.invoker", "--format", "{{.ID}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    if not listed:
        return []
    inspected = json.loads(
        subprocess.run(
            ["docker", "inspect", *listed], capture_output=True, text=True, check=True
        ).stdout
    )
    endpoints = []
    for container in inspected:
        owner = container["Config"]["Labels"].get("pywhisk.owner", "")
        if owner.split("/")[1:2] != [str(server_pid)]:
            continue
        for network in (container["NetworkSettings"].get("Networks") or {}).values():
            if network.get("IPAddress"):
                endpoints.append(f"{network['IPAddress']}:8080")
    return sorted(endpoints)
