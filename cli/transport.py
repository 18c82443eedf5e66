"""`wsk`'s HTTP/1.1 client: a kept-alive connection per host over the standard library's
sockets (and ssl, for https only), responses parsed by httptools.

Every `wsk` command is a new process making one to a few requests, so the client's import
is paid each time a person types one: httpx and its dependencies took longer to import than
the interpreter takes to start, and the standard library's http.client loads the whole
email package to parse headers. This module imports socket and httptools (a small C
parser, already the invoker's), which is why it exists.

It behaves as Go's default client, which the Go `wsk` uses: 30 s to connect and no read
timeout (a blocking invoke may wait a minute for its answer); proxies from ``HTTP_PROXY``,
``HTTPS_PROXY`` and ``NO_PROXY`` (never for localhost or a loopback address); certificates
checked against the system's store (``SSL_CERT_FILE`` and ``SSL_CERT_DIR`` are honoured by
OpenSSL); a kept-alive connection the server closed while idle is dialled again, once.
"""

from __future__ import annotations

import base64
import os
import socket
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, NamedTuple, Protocol
from urllib.parse import unquote, urlsplit

import httptools

if TYPE_CHECKING:
    import ssl

CONNECT_TIMEOUT = 30.0  # Go's net.Dialer in http.DefaultTransport
_RECV = 1 << 16
_DEFAULT_PORTS = {"http": 80, "https": 443}


# NamedTuples rather than dataclasses: a dataclass costs a few times more to define, and
# this module is imported by every `wsk` command that talks to a host.
class Request(NamedTuple):
    method: str
    url: str
    headers: dict[str, str]
    content: bytes | None = None


class Response(NamedTuple):
    status: int
    headers: list[tuple[str, str]]  # as received, repeated names kept
    content: bytes


class TransportError(Exception):
    """No answer to the request; the message says why, in words a user can act on."""

    def __init__(self, message: str, *, refused: bool = False, timed_out: bool = False) -> None:
        super().__init__(message)
        self.refused = refused
        self.timed_out = timed_out


if TYPE_CHECKING:

    class Transport(Protocol):
        """What WhiskClient sends through: HttpTransport, or a test's stand-in."""

        def send(self, request: Request) -> Response: ...

        def close(self) -> None: ...


class _NothingReceived(Exception):
    """The connection failed or ended before any byte of an answer: on a reused connection,
    the server had closed it while idle, and the request is sent again on a new one."""

    def __init__(self, cause: OSError | None = None) -> None:
        super().__init__(cause)
        self.cause = cause


class _Endpoint(NamedTuple):
    scheme: str
    host: str
    port: int

    @property
    def authority(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == _DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


class _Proxy(NamedTuple):
    endpoint: _Endpoint
    authorization: str | None  # the Proxy-Authorization value, from the proxy URL's user info


class HttpTransport:
    """Sends requests; ``tls`` makes the context for https connections (on first need)."""

    def __init__(
        self,
        tls: Callable[[], ssl.SSLContext],
        env: Mapping[str, str] | None = None,
        connect_timeout: float = CONNECT_TIMEOUT,
    ) -> None:
        self._tls = tls
        self._context: ssl.SSLContext | None = None
        self._env = env
        self._connect_timeout = connect_timeout
        self._idle: dict[_Endpoint, socket.socket] = {}

    def close(self) -> None:
        for sock in self._idle.values():
            sock.close()
        self._idle.clear()

    def send(self, request: Request) -> Response:
        endpoint, target = _split(request.url)
        proxy = proxy_for(endpoint, self._env)
        if proxy is not None and endpoint.scheme == "http":
            target = request.url  # a plain-HTTP proxy is sent the absolute URL
        data = _encode(request, endpoint, target, proxy)
        sock = self._idle.pop(endpoint, None)
        try:
            if sock is not None:
                try:
                    return self._exchange(sock, endpoint, data)
                except _NothingReceived:
                    pass  # closed by the server while idle: dial again
            sock = self._connect(endpoint, proxy)
            try:
                return self._exchange(sock, endpoint, data)
            except _NothingReceived as nothing:
                if nothing.cause is not None:
                    raise nothing.cause from None
                raise TransportError("the server closed the connection without answering") from None
        except OSError as err:
            raise _transport_error(err) from None

    # ------------------------------------------------------------------- internals
    def _exchange(self, sock: socket.socket, endpoint: _Endpoint, data: bytes) -> Response:
        try:
            try:
                sock.sendall(data)
            except OSError as err:
                raise _NothingReceived(err) from None
            response, keep_alive = _read_response(sock)
        except BaseException:
            sock.close()
            raise
        if keep_alive:
            self._idle[endpoint] = sock
        else:
            sock.close()
        return response

    def _connect(self, endpoint: _Endpoint, proxy: _Proxy | None) -> socket.socket:
        dialled = proxy.endpoint if proxy is not None else endpoint
        # The host goes to getaddrinfo as bytes (it is ASCII, see _ascii_host): as str it is
        # first encoded with the idna codec, whose import costs more than the lookup.
        address = (dialled.host.encode(), dialled.port)
        sock = socket.create_connection(address, self._connect_timeout)  # type: ignore[arg-type]
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if endpoint.scheme == "https":
                if proxy is not None:
                    _tunnel(sock, endpoint, proxy)
                if self._context is None:
                    self._context = self._tls()
                sock = self._context.wrap_socket(sock, server_hostname=endpoint.host)
            sock.settimeout(None)  # no read timeout, as Go's client
        except BaseException:
            sock.close()
            raise
        return sock


def _split(url: str) -> tuple[_Endpoint, str]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise TransportError(f"unsupported URL {url!r}")
    try:
        port = parts.port or _DEFAULT_PORTS[scheme]
    except ValueError:
        raise TransportError(f"invalid port in {url!r}") from None
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _Endpoint(scheme, _ascii_host(parts.hostname), port), target


def _ascii_host(name: str) -> str:
    """An internationalised host name in its ASCII form, as it goes into DNS and headers."""
    return name if name.isascii() else name.encode("idna").decode("ascii")


def _encode(request: Request, endpoint: _Endpoint, target: str, proxy: _Proxy | None) -> bytes:
    lines = [f"{request.method} {target} HTTP/1.1", f"Host: {endpoint.authority}"]
    lines += [f"{name}: {value}" for name, value in request.headers.items()]
    if request.content is not None:
        lines.append(f"Content-Length: {len(request.content)}")
    elif request.method in ("POST", "PUT", "PATCH"):
        lines.append("Content-Length: 0")
    if proxy is not None and proxy.authorization and endpoint.scheme == "http":
        lines.append(f"Proxy-Authorization: {proxy.authorization}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head + (request.content or b"")


class _Reading:
    """httptools' callbacks, gathering one response."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.headers: list[tuple[str, str]] = []
        self.body = bytearray()
        self.headers_done = False
        self.done = False
        self.keep_alive = False

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        self.headers_done = True

    def on_body(self, body: bytes) -> None:
        self.body += body

    def on_message_complete(self) -> None:
        self.done = True
        # asked now: once the message is complete the parser starts over and says False
        self.keep_alive = self.parser.should_keep_alive()

    def delimited(self) -> bool:
        """Whether the body's end is marked (a length, or chunks), not the connection's end."""
        for name, value in self.headers:
            lowered = name.lower()
            if lowered == "content-length" or (
                lowered == "transfer-encoding" and "chunked" in value.lower()
            ):
                return True
        return False


def _read_response(sock: socket.socket) -> tuple[Response, bool]:
    """One response; with whether the connection may carry another request."""
    reading = _Reading()
    received = False
    while not reading.done:
        try:
            chunk = sock.recv(_RECV)
        except OSError as err:
            if received:
                raise
            raise _NothingReceived(err) from None
        if not chunk:
            if not received:
                raise _NothingReceived
            if reading.headers_done and not reading.delimited():
                break  # the body ran to the connection's end (HTTP/1.0 style)
            raise TransportError("the server closed the connection in the middle of its answer")
        received = True
        try:
            reading.parser.feed_data(chunk)
        except httptools.HttpParserError as err:
            raise TransportError(f"the server's answer is not valid HTTP ({err})") from None
    response = Response(reading.parser.get_status_code(), reading.headers, bytes(reading.body))
    return response, reading.keep_alive


def _tunnel(sock: socket.socket, endpoint: _Endpoint, proxy: _Proxy) -> None:
    """``CONNECT`` through a proxy to an https host; TLS then runs inside the tunnel."""
    host = f"[{endpoint.host}]" if ":" in endpoint.host else endpoint.host
    authority = f"{host}:{endpoint.port}"
    lines = [f"CONNECT {authority} HTTP/1.1", f"Host: {authority}"]
    if proxy.authorization:
        lines.append(f"Proxy-Authorization: {proxy.authorization}")
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    head = b""
    while b"\r\n\r\n" not in head:  # a 2xx answer to CONNECT has no body
        chunk = sock.recv(_RECV)
        if not chunk:
            raise TransportError("the proxy closed the connection")
        head += chunk
    status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[1].startswith("2"):
        raise TransportError(f"the proxy refused the tunnel: {status_line}")


# ------------------------------------------------------------------------- proxies
def proxy_for(endpoint: _Endpoint, env: Mapping[str, str] | None = None) -> _Proxy | None:
    """Go's ``ProxyFromEnvironment``: ``HTTPS_PROXY`` for https, ``HTTP_PROXY`` for http
    (either spelling, upper case first), unless ``NO_PROXY`` names the host."""
    if env is None:
        env = os.environ
    name = f"{endpoint.scheme}_proxy"
    url = env.get(name.upper()) or env.get(name)
    if not url or _loopback(endpoint.host) or _bypassed(endpoint, env):
        return None
    if "://" not in url:
        url = f"http://{url}"
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise TransportError(f"unsupported proxy {url!r} (only http:// proxies are)")
    authorization = None
    if parts.username is not None:
        credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        authorization = "Basic " + base64.b64encode(credentials.encode()).decode()
    return _Proxy(_Endpoint("http", _ascii_host(parts.hostname), parts.port or 80), authorization)


def _loopback(host: str) -> bool:
    """Go never proxies localhost or a loopback address."""
    if host in ("localhost", "::1"):
        return True
    parts = host.split(".")
    return len(parts) == 4 and parts[0] == "127" and all(part.isdigit() for part in parts)


def _bypassed(endpoint: _Endpoint, env: Mapping[str, str]) -> bool:
    """``NO_PROXY`` as Go reads it: comma-separated entries, each ``*``, an IP address, a
    CIDR block, or a domain name (``y.com`` matches it and its subdomains, ``.y.com`` and
    ``*.y.com`` only its subdomains), optionally with ``:port``."""
    host = endpoint.host.lower()
    for raw in (env.get("NO_PROXY") or env.get("no_proxy") or "").split(","):
        rule = raw.strip().lower()
        if rule == "*":
            return True
        if "/" in rule:
            if _in_block(host, rule):
                return True
            continue
        port = ""
        if rule.startswith("["):
            rule, _, rest = rule[1:].partition("]")
            port = rest.removeprefix(":")
        elif rule.count(":") == 1:
            rule, port = rule.split(":")
        if not rule or (port and port != str(endpoint.port)):
            continue
        if rule.startswith("*."):
            rule = rule[1:]
        if rule.startswith("."):
            if host.endswith(rule):
                return True
        elif host == rule or host.endswith(f".{rule}"):
            return True
    return False


def _in_block(host: str, block: str) -> bool:
    import ipaddress  # only for a CIDR entry: most runs never need it

    try:
        return ipaddress.ip_address(host) in ipaddress.ip_network(block, strict=False)
    except ValueError:
        return False


def _transport_error(err: OSError) -> TransportError:
    if isinstance(err, TimeoutError):
        return TransportError("timed out", timed_out=True)
    if isinstance(err, ConnectionRefusedError):
        return TransportError("connection refused", refused=True)
    return TransportError(str(err) or type(err).__name__)
