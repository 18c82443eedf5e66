"""The HTTP side of `wsk`: URLs, Basic auth, ``--verbose`` traces, and errors as wsk reports them.

Mirrors openwhisk-client-go's ``Client.Do``: a JSON ``{"error", "code"}`` body becomes
``<error> (code <code>)`` and exits ``status - 256``; a 502 without ``code`` is an
application error whose body (result or activation) the caller prints; a 202 on a blocking
invoke is "accepted, not finished" (exit 202); a body that is not JSON becomes "The
connection failed, or timed out. (HTTP status code N)".
"""

from __future__ import annotations

import base64
import platform
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import quote, urlencode

from pywhisk.cli.config import Properties, url_base
from pywhisk.cli.errors import EXIT_GENERAL, EXIT_NETWORK, EXIT_TIMED_OUT, EXIT_USAGE, WskError
from pywhisk.cli.errors import exit_code_for_status as _exit_for
from pywhisk.cli.jsontext import GoStruct, go_json, loads_go
from pywhisk.cli.params import dumps_body
from pywhisk.cli.transport import HttpTransport, Request, Response, TransportError
from pywhisk.cli.version import VERSION

if TYPE_CHECKING:
    import ssl

    from pywhisk.cli.transport import Transport

# Characters Go's url.URL{Path: ...}.String() leaves alone in a path segment.
_PATH_SAFE = "/$&+,:;=@"
VERBOSE_BODY_LIMIT = 1000

AUTH_MISSING = "Authorization key is not configured (--auth is required)"
SET_HOST_HINT = "set it with 'wsk property set --apihost HOST' or the --apihost flag"


def quote_path(name: str) -> str:
    return quote(name, safe=_PATH_SAFE)


def _user_agent() -> str:
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    return f"OpenWhisk-CLI/1.0 (pywhisk {VERSION}) {platform.system().lower()} {arch}"


def _canonical_header(name: str) -> str:
    return "-".join(part[:1].upper() + part[1:].lower() for part in name.split("-"))


def _go_v(value: Any) -> str:
    """Go's ``%v`` for the JSON values an error body can hold."""
    if isinstance(value, str):
        return value
    if value is None:
        return "<nil>"
    return dumps_body(value)


def application_error_message(value: Any) -> str:
    """``getApplicationErrorMessage``: the text of a result's ``error`` field."""
    if not isinstance(value, dict):
        return _go_v(value)
    if "error" not in value:
        return _go_v(value)
    error = value["error"]
    if isinstance(error, dict):
        strings = [item for item in error.values() if isinstance(item, str)]
        return "; ".join(strings) if strings else dumps_body(error)
    return _go_v(error)


class Reply(NamedTuple):
    status: int
    body: Any
    headers: dict[str, str]


class WhiskClient:
    """One configured connection to a whisk API host."""

    def __init__(
        self,
        props: Properties,
        *,
        insecure: bool = False,
        verbose: bool = False,
        debug: bool = False,
        transport: Transport | None = None,
        env: Mapping[str, str] | None = None,
        echo: Callable[[str], None] = print,
    ) -> None:
        self.props = props
        self.verbose = verbose or debug
        self.debug = debug
        self._echo = echo
        try:
            self.base_url = url_base(props.apihost)
        except ValueError as err:
            raise WskError(
                f"The API host is not valid: {err} Please {SET_HOST_HINT}.",
                EXIT_GENERAL,
                display_usage=True,
            ) from None
        self.trace(f"Using properties file '{props.props_file}'; API base URL '{self.base_url}'")
        tls = _tls(props, insecure)
        # env: where the proxy variables are read (the session's, injectable in tests)
        self._http = transport or HttpTransport(tls, env)
        self.user_agent = _user_agent()

    def close(self) -> None:
        self._http.close()

    # ------------------------------------------------------------------------ URLs
    @property
    def version_url(self) -> str:
        return f"{self.base_url}/{quote_path(self.props.apiversion)}"

    def namespaced(self, route: str, namespace: str = "_") -> str:
        """``{base}/v1/namespaces/{ns}/{route}``; ``route`` is already path-quoted."""
        return f"{self.version_url}/namespaces/{quote_path(namespace or '_')}/{route}"

    # --------------------------------------------------------------------- requests
    def request(
        self,
        method: str,
        url: str,
        *,
        query: Sequence[tuple[str, str]] = (),
        body: Any = None,
        auth: bool = True,
        timeout_is_error: bool = False,
        activation_reply: bool = False,
    ) -> Reply:
        """Send one request; return the parsed reply or raise WskError like wsk's ``Do``.

        ``timeout_is_error``: a 202 means a blocking invoke did not finish in time.
        ``activation_reply``: a 500/502 without ``code`` carries a result or activation that
        the caller prints, so its error message stays quiet (wsk treats only 502 this way;
        a blocking 500 "whisk internal error" carries the same kind of body).
        """
        if query:
            url = f"{url}?{urlencode(list(query))}"
        headers: dict[str, str] = {}
        if auth:
            if not self.props.auth:
                raise WskError(
                    f"{AUTH_MISSING}; set it with 'wsk property set --auth KEY' "
                    f"(or AUTH=KEY in {self.props.props_file or 'the properties file'})",
                    EXIT_USAGE,
                    display_usage=True,
                )
            token = base64.b64encode(self.props.auth.encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        content: bytes | None = None
        if body is not None:
            content = (dumps_body(body) + "\n").encode()
            headers["Content-Type"] = "application/json"
        headers["User-Agent"] = self.user_agent
        self._trace_request(method, url, headers, content)
        try:
            response = self._http.send(Request(method, url, headers, content))
        except TransportError as err:
            self.trace(f"HTTP {method} {url} failed: {err!r}")
            raise self._network_error(err) from None
        self._trace_response(response)
        return self._interpret(response, timeout_is_error, activation_reply)

    def _interpret(
        self, response: Response, timeout_is_error: bool, activation_reply: bool
    ) -> Reply:
        status = response.status
        headers = {key.lower(): value for key, value in response.headers}
        try:
            body = loads_go(response.content) if response.content else None
            parsed = bool(response.content)
        except ValueError:
            body, parsed = None, False
        if not 200 <= status <= 299:
            error = self._http_error(status, body if parsed else None, headers, activation_reply)
            raise error
        if status == 202 and timeout_is_error:
            raise WskError(
                "Request accepted, but processing not completed yet.",
                EXIT_TIMED_OUT,
                display_msg=False,
                display_prefix=False,
                timed_out=True,
                body=body,
                headers=headers,
            )
        # Like wsk, a successful reply whose body does not parse is still a success.
        return Reply(status, body, headers)

    def _http_error(
        self, status: int, body: Any, headers: dict[str, str], activation_reply: bool = False
    ) -> WskError:
        exit_code = _exit_for(status)
        if isinstance(body, dict):
            code, message = body.get("code"), body.get("error")
            application = status == 502 or (activation_reply and status == 500)
            if code is None and application:
                response = body.get("response")
                if isinstance(response, dict) and response.get("status") is not None:
                    text = "The following application error was received: "
                    text += application_error_message(response.get("result"))
                    return _application_error(text, exit_code, body, headers, activation_reply)
                if message is not None:
                    text = application_error_message(message)
                    return _application_error(text, exit_code, body, headers, activation_reply)
            elif code is not None and message is not None:
                return WskError(
                    f"{_go_v(message)} (code {_go_v(code)})", exit_code, body=body, headers=headers
                )
        return WskError(
            f"The connection failed, or timed out. (HTTP status code {status})",
            exit_code,
            headers=headers,
        )

    def _network_error(self, err: TransportError) -> WskError:
        host = self.props.apihost
        reason = str(err)
        hint = f"Check that the server is running, or {SET_HOST_HINT}."
        if "ssl" in reason.lower() or "certificate" in reason.lower():
            hint = (
                "For a plain-HTTP server use an http:// API host (a bare host means https); "
                "use -i to skip certificate checks."
            )
        return WskError(
            f"Unable to reach the API host '{host}' at {self.base_url}: {reason}. {hint}",
            EXIT_NETWORK,
        )

    # ----------------------------------------------------------------- --verbose
    def trace(self, message: str) -> None:
        """``--debug`` lines, in wsk's ``[where]:[level] message`` shape."""
        if self.debug:
            self._echo(f"[{'cli.client':<25}]:[Inf] {message}")

    def _show_body(self, data: bytes) -> str:
        text = data.decode("utf-8", errors="replace")
        if not self.debug and len(data) > VERBOSE_BODY_LIMIT:
            self._echo(f"Body exceeds {VERBOSE_BODY_LIMIT} bytes and will be truncated")
            return data[:VERBOSE_BODY_LIMIT].decode("utf-8", errors="replace") + "..."
        return text

    def _trace_request(
        self, method: str, url: str, headers: dict[str, str], content: bytes | None
    ) -> None:
        if not self.verbose:
            return
        self._echo("REQUEST:")
        self._echo(f"[{method}]\t{url}")
        self._echo("Req Headers")
        self._echo(_headers_json(headers.items()).rstrip("\n"))
        if content is not None:
            self._echo("Req Body")
            self._echo(self._show_body(content))

    def _trace_response(self, response: Response) -> None:
        if not self.verbose:
            return
        # wsk prints "RESPONSE:" without a newline before the status line
        self._echo(f"RESPONSE:Got response with code {response.status}")
        if response.headers:
            self._echo("Resp Headers")
            self._echo(_headers_json(response.headers).rstrip("\n"))
        self._echo(f"Response body size is {len(response.content)} bytes")
        self._echo(f"Response body received:\n{self._show_body(response.content)}")


def _tls(props: Properties, insecure: bool) -> Callable[[], ssl.SSLContext]:
    """What makes the TLS context: ``-i`` skips certificate checks; CERT and KEY together
    present a client certificate (loaded now, so a bad pair fails before any request)."""
    if props.key and not props.cert and not insecure:
        raise WskError("The Cert file is not configured. Please configure the missing Cert file.")
    if props.cert and not props.key and not insecure:
        raise WskError("The Key file is not configured. Please configure the missing Key file.")
    if not (props.cert and props.key):
        return lambda: _context(insecure)
    import ssl

    context = _context(insecure)
    try:
        context.load_cert_chain(props.cert, props.key)
    except (OSError, ssl.SSLError) as err:
        raise WskError(
            f"Unable to load the X509 key pair due to the following reason: {err}"
        ) from err
    return lambda: context


def _context(insecure: bool) -> ssl.SSLContext:
    # imported here: ssl is only needed for an https API host
    import ssl

    # the system's certificates, as Go's client uses
    context = ssl.create_default_context()
    if insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _application_error(
    text: str, exit_code: int, body: Any, headers: dict[str, str], quiet: bool
) -> WskError:
    # Quiet for invokes: the caller prints the result or activation instead.
    return WskError(
        text,
        exit_code,
        display_msg=not quiet,
        application_error=True,
        body=body,
        headers=headers,
    )


def _headers_json(items: Any) -> str:
    grouped: dict[str, list[str]] = {}
    for name, value in items:
        grouped.setdefault(_canonical_header(name), []).append(value)
    # wsk prints headers with a two-space indent (prettyjson), unlike entity JSON
    return go_json(GoStruct(sorted(grouped.items())), indent="  ")
