"""What the planner's page accepts: its own address, its own origin, its token, typed JSON bodies.

A local web server can be reached by every web page the planner's browser opens. The page's
server therefore trusts a request only when it can attribute it to its own page:

* **Host**: the ``Host`` header names the address the server serves (``127.0.0.1:PORT``,
  ``localhost:PORT``, ``[::1]:PORT`` or the ``--host`` given). A web page on another domain
  that re-points its name at 127.0.0.1 (DNS rebinding) sends its own name and gets 403.
* **Origin**: a request carrying ``Origin`` (or ``Sec-Fetch-Site: cross-site``) from any other
  origin gets 403.
* **Token**: every ``/api/`` and ``/download/`` request carries the per-start token printed in
  the URL (``?token=...``, as Jupyter does): the page's script sends it in the
  ``X-Townsim-Token`` header, download links in the query. Missing or wrong: 403.
* **Body**: a request that changes state is ``POST`` with ``Content-Type: application/json``
  (415 otherwise; a cross-site form or ``text/plain`` post cannot set it), at most
  :data:`MAX_BODY` bytes (413), and validated by :class:`RunRequest` (400 naming the field).
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import secrets
import socket
from typing import Annotated, Any

from flask import Flask, Response, request
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from sim.argtypes import MAX_SEED

__all__ = [
    "MAX_BODY",
    "MAX_DAYS",
    "MAX_REPLICATIONS",
    "TOKEN_HEADER",
    "PageGuard",
    "RequestError",
    "RunRequest",
    "parse_run_request",
]

#: Largest request body the page accepts (bytes): edits of every facility fit in a few kB.
MAX_BODY = 256 * 1024
#: Replications and days one Run on the page may ask for.
MAX_REPLICATIONS = 100
MAX_DAYS = 3650
TOKEN_HEADER = "X-Townsim-Token"

_Id = Annotated[str, StringConstraints(min_length=1, max_length=128)]
_Typed = Annotated[str, StringConstraints(max_length=32)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HoursEdit(_Strict):
    """Opening hours as typed on the page ("" = not set); the overlay's validation checks HH:MM."""

    open: _Typed = ""
    close: _Typed = ""


class FacilityEdit(_Strict):
    """One facility's edit: plan action, windows (as typed: the overlay's validation names them)."""

    action: _Typed | None = None
    servers: Any = None
    hours: HoursEdit | None = None

    @field_validator("servers")
    @classmethod
    def _as_typed(cls, value: Any) -> Any:
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        if isinstance(value, str) and len(value) <= 32:
            return value
        raise ValueError("expected a whole number of windows (or the text typed, at most 32 characters)")


class DrawnLine(_Strict):
    """A line drawn on the map: its stops clicked in order, a name, headway and hours (as typed;
    the overlay's validation checks them like any scenario line)."""

    name: Annotated[str, StringConstraints(max_length=64)] = ""
    stops: list[_Id] = Field(min_length=2, max_length=60)
    every_min: Any = None
    first: _Typed = ""
    last: _Typed = ""

    @field_validator("every_min")
    @classmethod
    def _typed_minutes(cls, value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and len(value) <= 32:
            return value
        raise ValueError("expected minutes between departures (or the text typed, at most 32 characters)")


class PlanEdits(_Strict):
    """The page's edits: candidate lines switched on, lines drawn on the map, facility edits,
    hours per kind."""

    lines: list[_Id] = Field(default_factory=list, max_length=1000)
    drawn: dict[Annotated[str, StringConstraints(pattern=r"^drawn_[a-z0-9_]{1,40}$")], DrawnLine] = Field(
        default_factory=dict, max_length=50
    )
    facilities: dict[_Id, FacilityEdit] = Field(default_factory=dict, max_length=10_000)
    hours: dict[_Id, HoursEdit] = Field(default_factory=dict, max_length=100)

    def as_dict(self) -> dict[str, Any]:
        """The edits in the form :func:`sim.app.plan.overlay_from_edits` reads (unset fields left out)."""
        return self.model_dump(exclude_unset=True)


class RunRequest(_Strict):
    """Body of ``POST /api/run``: the edits and the Run's settings."""

    edits: PlanEdits = Field(default_factory=PlanEdits)
    replications: int = Field(default=10, ge=1, le=MAX_REPLICATIONS)
    days: int = Field(default=91, ge=1, le=MAX_DAYS)
    seed: int | None = Field(default=None, ge=0, le=MAX_SEED)

    @model_validator(mode="after")
    def _seeds_in_range(self) -> RunRequest:
        if self.seed is not None and self.seed + self.replications - 1 > MAX_SEED:
            raise ValueError(
                f"seed + replications - 1 must stay at most {MAX_SEED} (the seeds used are seed, seed+1, ...)"
            )
        return self


class RequestError(Exception):
    """A request the page refuses: HTTP status and a ``townsim: error:`` message."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)

    def response(self) -> Response:
        """The JSON error response (``{"error": "townsim: error: ..."}``)."""
        body = json.dumps({"error": f"townsim: error: {self}"})
        return Response(body, status=self.status, mimetype="application/json")


def _field(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(body)"


def parse_run_request(body: bytes) -> RunRequest:
    """The validated body of ``POST /api/run``.

    Raises:
        RequestError: 400 naming the field and what was expected.
    """
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise RequestError(400, "request body: expected a JSON object") from None
    if not isinstance(data, dict):
        raise RequestError(400, f"request body: expected a JSON object, got a {type(data).__name__}")
    try:
        return RunRequest.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        got = err.get("input")
        got_text = "" if isinstance(got, (dict, list)) else f", got {got!r}"[:80]
        message = "expected no such field (unknown field)" if err["type"] == "extra_forbidden" else err["msg"]
        raise RequestError(400, f"request body: field '{_field(err['loc'])}': {message}{got_text}") from None


def _is_wildcard(host: str) -> bool:
    return host in ("", "0.0.0.0", "::")


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


class PageGuard:
    """The checks of every request to the page (see the module's docstring).

    Args:
        host: the ``--host`` the server listens on.
        token: the per-start token (default: 32 random URL-safe characters).
    """

    def __init__(self, host: str, token: str | None = None) -> None:
        self.host = host
        self.token = token or secrets.token_urlsafe(24)
        self.port: int | None = None

    def bind(self, port: int) -> None:
        """The port actually served (known once the socket is bound: ``--port 0`` picks one)."""
        self.port = port

    def _names(self) -> set[str]:
        names = {"127.0.0.1", "localhost", "[::1]", "::1"}
        if not _is_wildcard(self.host):
            names.add(self.host.lower())
            names.add(f"[{self.host.lower()}]")
        else:
            names.add(socket.gethostname().lower())
        return names

    def host_allowed(self, header: str) -> bool:
        """Whether a ``Host`` header names this server (its port and one of its names)."""
        name, _, port = header.strip().lower().rpartition(":")
        if not name or "]" in port or port != str(self.port):
            return False
        # a server on every interface is reached by IP literal (no name to rebind) or its names
        return name in self._names() or (_is_wildcard(self.host) and _is_ip(name))

    def url(self, host: str | None = None) -> str:
        """The page's address with its token, as printed at start."""
        shown = host or ("127.0.0.1" if _is_wildcard(self.host) else self.host)
        if ":" in shown and not shown.startswith("["):
            shown = f"[{shown}]"
        return f"http://{shown}:{self.port}/?token={self.token}"

    def check(self) -> RequestError | None:
        """The refusal of the current request, or ``None`` when it may proceed."""
        if not self.host_allowed(request.host):
            return RequestError(403, f"request: Host '{request.host}' is not the address this page serves")
        origin = request.headers.get("Origin")
        if origin is not None and not (
            origin.lower().startswith("http://") and self.host_allowed(origin[len("http://") :])
        ):
            return RequestError(403, f"request: Origin '{origin}' is not this page")
        if request.headers.get("Sec-Fetch-Site") == "cross-site":
            return RequestError(403, "request: sent by another site")
        if not request.path.startswith(("/api/", "/download/")):
            return None  # the page and its static files
        given = request.headers.get(TOKEN_HEADER) or request.args.get("token") or ""
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            return RequestError(
                403, "request: expected the token of this start (open the URL printed by townsim app)"
            )
        if request.method == "POST":
            if request.mimetype != "application/json":
                return RequestError(415, "request: expected Content-Type application/json")
            if request.content_length is not None and request.content_length > MAX_BODY:
                return RequestError(413, f"request body: expected at most {MAX_BODY} bytes")
        return None

    def install(self, app: Flask) -> None:
        """Refuse unattributable requests before any view runs; cap bodies at :data:`MAX_BODY`."""
        app.config["MAX_CONTENT_LENGTH"] = MAX_BODY

        @app.before_request
        def _guard() -> Response | None:
            refusal = self.check()
            return refusal.response() if refusal is not None else None

        @app.errorhandler(413)
        def _too_large(_: Exception) -> Response:
            return RequestError(413, f"request body: expected at most {MAX_BODY} bytes").response()
