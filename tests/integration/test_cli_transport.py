"""`wsk`'s HTTP client against real sockets: keep-alive, a connection the server dropped
while idle, the ways a body can end, TLS with a self-signed certificate, and proxies."""

from __future__ import annotations

import json
import select
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from pywhisk.cli.main import cli
from pywhisk.cli.session import Session
from pywhisk.cli.transport import HttpTransport, Request, TransportError

BUILD = {"build": "2024-01-01T00:00:00Z", "buildno": "abc123"}


class Server:
    """A loopback TCP server calling ``handler(connection)`` once per accepted connection,
    each in a thread of its own; remembers how many it accepted."""

    def __init__(self, handler: Callable[[socket.socket], None]) -> None:
        self.handler = handler
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.connections = 0
        self.seen: list[bytes] = []  # each request's head, as received
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            self.handler(conn)

    def close(self) -> None:
        self.listener.close()


def read_request(conn: socket.socket, server: Server | None = None) -> tuple[bytes, bytes]:
    """One request's head and body (by Content-Length); b"" heads when the client hung up."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return b"", b""
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        body += conn.recv(65536)
    if server is not None:
        server.seen.append(head)
    return head, body


def json_reply(payload: object, extra: str = "") -> bytes:
    body = json.dumps(payload).encode()
    head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{extra}"
    return f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body


@pytest.fixture
def serve() -> Iterator[Callable[[Callable[[socket.socket], None]], Server]]:
    servers: list[Server] = []

    def start(handler: Callable[[socket.socket], None]) -> Server:
        server = Server(handler)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def client() -> Iterator[HttpTransport]:
    transport = HttpTransport(ssl.create_default_context, env={})
    yield transport
    transport.close()


def get(client: HttpTransport, port: int, path: str = "/api/v1") -> tuple[int, bytes]:
    response = client.send(Request("GET", f"http://127.0.0.1:{port}{path}", {}))
    return response.status, response.content


# ------------------------------------------------------------------- connections
def test_requests_share_one_kept_alive_connection(
    serve: Callable[..., Server], client: HttpTransport
) -> None:
    def keep_answering(conn: socket.socket) -> None:
        while read_request(conn)[0]:
            conn.sendall(json_reply(BUILD))

    server = serve(keep_answering)
    assert [get(client, server.port)[0] for _ in range(3)] == [200, 200, 200]
    assert server.connections == 1


def test_a_connection_dropped_while_idle_is_dialled_again(
    serve: Callable[..., Server], client: HttpTransport
) -> None:
    # Answers as if the connection stayed open, then closes it (a server's idle timeout).
    def answer_once(conn: socket.socket) -> None:
        if read_request(conn)[0]:
            conn.sendall(json_reply(BUILD))

    server = serve(answer_once)
    assert get(client, server.port) == (200, json.dumps(BUILD).encode())
    assert get(client, server.port) == (200, json.dumps(BUILD).encode())
    assert server.connections == 2


def test_a_chunked_body_and_a_body_ended_by_closing(
    serve: Callable[..., Server], client: HttpTransport
) -> None:
    def chunked(conn: socket.socket) -> None:
        read_request(conn)
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
        )

    def until_close(conn: socket.socket) -> None:
        read_request(conn)
        conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall of ")
        conn.sendall(b"it")

    assert get(client, serve(chunked).port) == (200, b"hello world")
    assert get(client, serve(until_close).port) == (200, b"all of it")


def test_a_body_cut_short_is_an_error_not_a_reply(
    serve: Callable[..., Server], client: HttpTransport
) -> None:
    def cut(conn: socket.socket) -> None:
        read_request(conn)
        conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"partial":')

    with pytest.raises(TransportError, match="in the middle of its answer"):
        get(client, serve(cut).port)


def test_a_request_body_arrives_whole(serve: Callable[..., Server], client: HttpTransport) -> None:
    received: list[bytes] = []

    def echo(conn: socket.socket) -> None:
        _, body = read_request(conn)
        received.append(body)
        conn.sendall(json_reply({"size": len(body)}))

    payload = json.dumps({"code": "x" * 300_000}).encode()
    url = f"http://127.0.0.1:{serve(echo).port}/api/v1/namespaces/_/actions/a"
    response = client.send(Request("PUT", url, {"Content-Type": "application/json"}, payload))
    assert json.loads(response.content) == {"size": len(payload)}
    assert received == [payload]


# --------------------------------------------------------------------- via wsk
@pytest.fixture
def props(tmp_path: Path) -> Callable[[str], Path]:
    def write(apihost: str) -> Path:
        path = tmp_path / "wskprops"
        path.write_text(f"APIHOST={apihost}\nAUTH=uuid:key\n")
        return path

    return write


def wsk(props_file: Path, *args: str, **env: str) -> Result:
    session = Session(env={"WSK_CONFIG_FILE": str(props_file), **env})
    return CliRunner().invoke(cli, list(args), obj=session)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, made by openssl."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost"),
            *("-addext", "subjectAltName=DNS:localhost,DNS:whisk.invalid,IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def tls_server(serve: Callable[..., Server], certificate: tuple[Path, Path]) -> Server:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)

    def answer(conn: socket.socket) -> None:
        try:
            with context.wrap_socket(conn, server_side=True) as tls:
                while read_request(tls)[0]:
                    tls.sendall(json_reply(BUILD))
        except (ssl.SSLError, OSError):
            pass  # the client refused the certificate

    return serve(answer)


def test_https_with_a_self_signed_certificate(
    serve: Callable[..., Server],
    certificate: tuple[Path, Path],
    props: Callable[[str], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = tls_server(serve, certificate)
    path = props(f"https://127.0.0.1:{server.port}")

    refused = wsk(path, "property", "get", "--apibuild")
    assert refused.exit_code == 3
    assert "certificate verify failed" in refused.stderr
    assert "use -i to skip certificate checks" in refused.stderr

    insecure = wsk(path, "property", "get", "--apibuild", "-i")
    assert (insecure.exit_code, insecure.stdout) == (0, f"whisk API build\t\t{BUILD['build']}\n")

    # the system's store, as OpenSSL finds it: SSL_CERT_FILE names another
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    trusted = wsk(path, "property", "get", "--apibuildno", "-o", "raw")
    assert (trusted.exit_code, trusted.stdout) == (0, f"{BUILD['buildno']}\n")


def forward_proxy(serve: Callable[..., Server], target: int) -> Server:
    """A proxy sending every request to 127.0.0.1:target, whatever host it names:
    absolute-URL requests forwarded whole, CONNECT tunnelled byte for byte."""

    def relay(conn: socket.socket) -> None:
        head, _ = read_request(conn, proxy)
        if not head:
            return
        upstream = socket.create_connection(("127.0.0.1", target))
        with upstream:
            if head.startswith(b"CONNECT "):
                conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            else:
                upstream.sendall(head + b"\r\n\r\n")
            pipes = {conn: upstream, upstream: conn}
            while True:
                readable, _, _ = select.select(list(pipes), [], [], 10)
                if not readable:
                    return
                for side in readable:
                    try:
                        data = side.recv(65536)
                        pipes[side].sendall(data)
                    except OSError:  # a client refusing the certificate resets its end
                        return
                    if not data:
                        return

    proxy = serve(relay)  # relay reads it: defined before any connection arrives
    return proxy


def test_proxies_from_the_environment(
    serve: Callable[..., Server],
    certificate: tuple[Path, Path],
    props: Callable[[str], Path],
) -> None:
    def answer(conn: socket.socket) -> None:
        while read_request(conn)[0]:
            conn.sendall(json_reply(BUILD))

    plain = serve(answer)
    proxy = forward_proxy(serve, plain.port)
    proxy_url = f"http://127.0.0.1:{proxy.port}"
    # whisk.invalid never resolves (RFC 6761): only through the proxy can it be reached
    path = props(f"http://whisk.invalid:{plain.port}")
    through = wsk(path, "property", "get", "--apibuild", HTTP_PROXY=proxy_url)
    assert (through.exit_code, through.stdout) == (0, f"whisk API build\t\t{BUILD['build']}\n")
    assert proxy.seen[0].startswith(f"GET http://whisk.invalid:{plain.port}/api/v1 ".encode())

    bypassed = wsk(
        path, "property", "get", "--apibuild", HTTP_PROXY=proxy_url, NO_PROXY=".invalid,other"
    )
    assert bypassed.exit_code == 3
    assert "Unable to reach the API host" in bypassed.stderr

    secure = tls_server(serve, certificate)
    tunnel = forward_proxy(serve, secure.port)
    path = props(f"https://whisk.invalid:{secure.port}")
    tunnelled = wsk(
        path, "property", "get", "--apibuild", HTTPS_PROXY=f"http://127.0.0.1:{tunnel.port}"
    )
    assert tunnelled.exit_code == 3  # the certificate is checked through the tunnel too
    assert "certificate verify failed" in tunnelled.stderr
    tunnelled = wsk(
        path, "-i", "property", "get", "--apibuild", https_proxy=f"127.0.0.1:{tunnel.port}"
    )
    assert (tunnelled.exit_code, tunnelled.stdout) == (0, f"whisk API build\t\t{BUILD['build']}\n")
    assert tunnel.seen[-1].startswith(f"CONNECT whisk.invalid:{secure.port} HTTP/1.1".encode())

    # Go never proxies a loopback address: a dead proxy does not matter
    direct = props(f"http://127.0.0.1:{plain.port}")
    dead = f"http://127.0.0.1:{serve(lambda conn: None).port}"
    assert wsk(direct, "property", "get", "--apibuild", HTTP_PROXY=dead).exit_code == 0
