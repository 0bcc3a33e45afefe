"""Who may use a browser panel: loopback is open; beyond it, a secret token (as Jupyter's) is required.

The token travels once in the URL (``?token=...``); the first response that accepts it sets a cookie, so
reloads and the page's websocket need nothing else. A request or websocket handshake without a valid
token gets ``403 Forbidden`` and nothing else. viser has no hook for this, so :func:`token_gate` puts the
check in front of viser's own ``process_request`` while a viser server starts (and refuses to start one
it could not guard).
"""

from __future__ import annotations

import contextlib
import hmac
import http
import ipaddress
import re
import secrets
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlsplit

from isaaclab_trainer.train.checks import UsageError

LOOPBACK = "127.0.0.1"
TOKEN_PARAM = "token"
COOKIE_PREFIX = "isaaclab_panel_token_"
MIN_TOKEN_CHARS = 16
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9._~-]+")
_START_LOCK = threading.Lock()  # one guarded server start at a time: the hook is process-wide while it lasts


def is_loopback(host: str) -> bool:
    """True when ``host`` resolves to a loopback address only (``127.0.0.1``, ``::1``, ``localhost``)."""
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return all(ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_loopback for info in infos)


def check_host(host: str, name: str = "--host") -> str:
    """``host`` when this machine can listen on it, else a UsageError (viser would block instead of failing)."""
    try:
        with socket.create_server((host, 0)):
            pass
    except (OSError, UnicodeError, ValueError):
        raise UsageError(
            f"{name} '{host}' is not an address of this machine (accepted: 127.0.0.1, 0.0.0.0 or one of its addresses)"
        ) from None
    return host


def check_port(port: object, name: str = "--port", off: int | None = None) -> int:
    """A port to listen on: 0 to 65535 (0 picks a free one); ``off`` too, where a setting uses it for "not served"."""
    accepted = f"{off}, " if off is not None else ""
    if isinstance(port, bool) or not isinstance(port, int) or not (port == off or 0 <= port <= 65535):
        raise UsageError(f"{name} {port!r} is not accepted (accepted: {accepted}0 to 65535; 0 picks a free port)")
    return port


def check_token(token: str, name: str = "--token") -> str:
    """A token given by the user: at least 16 URL-safe characters (it goes into a URL and a cookie as is)."""
    if len(token) < MIN_TOKEN_CHARS or not _TOKEN_CHARS.fullmatch(token):
        unsafe = "" if _TOKEN_CHARS.fullmatch(token) else ", some not URL-safe"
        raise UsageError(
            f"{name} has {len(token)} characters{unsafe} (accepted: at least {MIN_TOKEN_CHARS} of A-Z a-z 0-9 . _ ~ -)"
        )
    return token


@dataclass(frozen=True)
class BrowserOptions:
    """Where a browser panel listens and the token it requires (None: open, loopback only)."""

    host: str
    port: int
    token: str | None
    loopback: bool


def browser_options(
    port: object, host: str, token: str | None, names: tuple[str, str, str] = ("--port", "--host", "--token")
) -> BrowserOptions:
    """The checked options of a browser panel (each error names its flag or setting, ``names``). The token is the
    given one; beyond loopback a new one when none is given; none on loopback when none is given."""
    port_name, host_name, token_name = names
    checked_port = check_port(port, port_name)
    check_host(host, host_name)
    loopback = is_loopback(host)
    if token:
        token = check_token(token, token_name)
    return BrowserOptions(host, checked_port, token or (None if loopback else secrets.token_hex(24)), loopback)


def exposure_warning(host: str, port: int) -> str:
    """The one line printed before serving beyond loopback."""
    return (
        f"listening on {host}: anyone who can reach port {port} and has the token in the URL can start training, "
        "load checkpoints and write files; for a remote machine prefer 127.0.0.1 and an SSH tunnel "
        f"(ssh -L {port}:127.0.0.1:{port} <machine>)"
    )


class TokenGate:
    """``process_request`` / ``process_response`` hooks of a websockets server that require ``token``.

    Accepted: ``?token=<token>`` in the request's URL (the response then sets the cookie), or the cookie
    ``isaaclab_panel_token_<port>`` (per port: cookies are shared by every port of a host).
    """

    def __init__(self, token: str) -> None:
        self.token = token
        self.refused = 0  # requests answered 403

    def _matches(self, value: str | None) -> bool:
        return value is not None and hmac.compare_digest(value.encode(), self.token.encode())

    @staticmethod
    def _cookie_name(connection: Any) -> str:
        return f"{COOKIE_PREFIX}{connection.local_address[1]}"

    def _from_query(self, request: Any) -> bool:
        values = parse_qs(urlsplit(request.path).query).get(TOKEN_PARAM, [])
        return any(self._matches(v) for v in values)

    def _from_cookie(self, connection: Any, request: Any) -> bool:
        cookie = SimpleCookie()
        for header in request.headers.get_all("Cookie"):
            with contextlib.suppress(Exception):  # a malformed cookie header counts as none
                cookie.load(header)
        morsel = cookie.get(self._cookie_name(connection))
        return morsel is not None and self._matches(morsel.value)

    def wrap_request(self, inner: Callable[..., Any] | None) -> Callable[..., Any]:
        """``inner`` (viser's HTTP handler) behind the token check."""

        def process_request(connection: Any, request: Any) -> Any:
            if not (self._from_query(request) or self._from_cookie(connection, request)):
                self.refused += 1
                return connection.respond(http.HTTPStatus.FORBIDDEN, "403 Forbidden\n")
            return inner(connection, request) if inner is not None else None

        return process_request

    def wrap_response(self, inner: Callable[..., Any] | None) -> Callable[..., Any]:
        """Set the cookie on a response to a request that brought the token in its URL."""

        def process_response(connection: Any, request: Any, response: Any) -> Any:
            if inner is not None:
                response = inner(connection, request, response) or response
            if self._from_query(request):
                response.headers["Set-Cookie"] = (
                    f"{self._cookie_name(connection)}={self.token}; Path=/; HttpOnly; SameSite=Lax"
                )
            return response

        return process_response


@contextlib.contextmanager
def token_gate(gate: TokenGate | None) -> Iterator[None]:
    """While a viser server starts inside this block, put ``gate`` in front of every request it will get.

    viser starts its server with ``websockets.asyncio.server.serve(..., process_request=<its HTTP handler>)``
    and waits for it to listen before its constructor returns; the hook wraps that call only for the
    duration of the block. Raises RuntimeError (and the caller must close the server) if no server was
    started through it, so a panel is never served unguarded.
    """
    if gate is None:
        yield
        return
    import websockets.asyncio.server as ws_server

    original = ws_server.serve
    started: list[bool] = []

    def serve(*args: Any, process_request: Any = None, process_response: Any = None, **kwargs: Any) -> Any:
        started.append(True)
        return original(
            *args,
            process_request=gate.wrap_request(process_request),
            process_response=gate.wrap_response(process_response),
            **kwargs,
        )

    with _START_LOCK:
        ws_server.serve = serve  # type: ignore[misc,assignment]
        try:
            yield
        finally:
            ws_server.serve = original  # type: ignore[misc]
    if not started:
        raise RuntimeError("the token check could not be put in front of viser's server; not serving the panel")
