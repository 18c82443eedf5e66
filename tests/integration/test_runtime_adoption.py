"""A proxy booted ahead (`--adopt-fd`, as in a booted spare sandbox): a real process on a
real Unix socket."""

import json
import os
import socket
import subprocess
import sys

import pytest


def _post(sock_path: str, path: str, body: bytes, timeout: float) -> bytes:
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(timeout)
        s.connect(sock_path)
        s.sendall(
            f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        return s.recv(65536)


def test_booted_ahead_it_serves_only_once_adopted(tmp_path):
    """--adopt-fd: the proxy boots (launcher spawned, imports done), says so on
    --ready-fd, answers nothing until the adoption's kind arrives, then serves."""
    proc, path, adopt_w, ready_r = _boot(tmp_path)
    try:
        assert os.read(ready_r, 1) == b"\n"
        with pytest.raises(TimeoutError):  # queued in the backlog, not served
            _post(path, "/run", b"{}", timeout=0.5)
        os.write(adopt_w, b"--kind\0python:3.11\0")
        os.close(adopt_w)
        adopt_w = -1
        init = {"value": {"code": "def main(a):\n    return {'n': a['n'] + 1}\n"}}
        assert b" 200 OK" in _post(path, "/init", json.dumps(init).encode(), timeout=10)
        reply = _post(path, "/run", b'{"value": {"n": 41}}', timeout=10)
        assert reply.endswith(b'{"n":42}'), reply
    finally:
        if adopt_w >= 0:
            os.close(adopt_w)
        os.close(ready_r)
        proc.terminate()
        proc.wait(10)


def test_booted_ahead_it_exits_when_its_invoker_is_gone(tmp_path):
    """The adoption pipe closes with nothing written (the invoker that booted it was
    SIGKILLed): nothing will ever adopt it, so it exits, launcher and all, instead of
    serving a socket nobody will connect to."""
    proc, _, adopt_w, ready_r = _boot(tmp_path)
    try:
        assert os.read(ready_r, 1) == b"\n"
        with open(f"/proc/{proc.pid}/task/{proc.pid}/children") as f:
            (launcher,) = (int(pid) for pid in f.read().split())
        os.close(adopt_w)  # as the kernel closes it when the invoker dies
        assert proc.wait(10) == 0
        assert not os.path.exists(f"/proc/{launcher}") or _zombie(launcher)
    finally:
        os.close(ready_r)
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] == "Z"
    except OSError:
        return True


def _boot(tmp_path) -> tuple[subprocess.Popen[bytes], str, int, int]:
    """A Python proxy booted ahead on a Unix socket: (process, socket path, the adoption
    pipe's write end, the ready pipe's read end)."""
    path = str(tmp_path / "sock")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen(8)
    adopt_r, adopt_w = os.pipe()
    ready_r, ready_w = os.pipe()
    fds = (listener.fileno(), adopt_r, ready_w)
    work = tmp_path / "work"
    work.mkdir()
    proc = subprocess.Popen(
        [
            sys.executable,
            *("-m", "pywhisk.action_runtime", "--language", "python"),
            *("--listen-fd", str(fds[0]), "--adopt-fd", str(fds[1]), "--ready-fd", str(fds[2])),
        ],
        cwd=work,
        pass_fds=fds,
    )
    for fd in (adopt_r, ready_w):
        os.close(fd)
    listener.close()
    return proc, path, adopt_w, ready_r
