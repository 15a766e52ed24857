"""The console's web app: pages rendered on the server (no JavaScript needed), mounted at /console."""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlparse

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from engine.console import views
from engine.console.auth import (
    CONSOLE_ROLES,
    Person,
    csrf_ok,
    csrf_token,
    current,
    is_agent,
    oidc_client,
    person_from_claims,
)
from engine.console.auth import start_session as begin
from engine.console.decisions import Decision, decide
from engine.console.headers import SecurityHeaders
from engine.console.settings import ConsoleSettings
from engine.errors import DataMcpError, InvalidIdentity, SettingsError
from engine.identity import normalize_principal
from engine.operations import Engine

BASE = "/console"
HERE = Path(__file__).parent
LOOPBACK = ("127.0.0.1", "localhost", "::1")
Handler = Callable[[Request], Awaitable[Response]]


def shown(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)


class Console:
    """The pages and the login flows over one engine."""

    def __init__(self, engine: Engine, settings: ConsoleSettings, public_url: str, agents: frozenset[str]) -> None:
        self.engine = engine
        self.settings = settings
        self.public_url = public_url.rstrip("/")
        self.agents = agents
        self.oidc = oidc_client(settings) if settings.oidc_issuer and settings.oidc_client_id else None
        self.templates = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape())
        self.templates.filters["shown"] = shown

    def url(self, path: str) -> str:
        return f"{self.public_url}{BASE}{path}"

    def page(self, request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        body = self.templates.get_template(name).render(
            base=BASE, person=current(request), csrf=csrf_token(request), dev=self.settings.dev_login, **context
        )
        return HTMLResponse(body, status_code=status)

    def refuse(self, request: Request, status: int, title: str, detail: str) -> HTMLResponse:
        return self.page(request, "error.html", status, code=status, title=title, detail=detail)

    # --- access ---------------------------------------------------------------------------------------------------
    def guarded(self, role: str, handler: Callable[[Request, Person], Awaitable[Response]]) -> Handler:
        """A page for people holding `role`; others are sent to log in (no session) or refused (403)."""

        async def run(request: Request) -> Response:
            person = current(request, self.settings.session_max_age_seconds)
            if person is None:
                request.session["next"] = request.url.path
                return RedirectResponse(f"{BASE}/login", status_code=303)
            if not person.can(role):
                return self.refuse(request, 403, "Forbidden", f"this needs the {role} role")
            if request.method == "POST" and not csrf_ok(request, await request.form()):
                return self.refuse(request, 403, "Forbidden", "the form's CSRF token is missing or wrong")
            return await handler(request, person)

        return run

    # --- login ----------------------------------------------------------------------------------------------------
    async def login(self, request: Request) -> Response:
        request.session.setdefault("csrf", secrets.token_urlsafe(32))
        return self.page(request, "login.html", oidc=self.oidc is not None, roles=CONSOLE_ROLES)

    async def login_start(self, request: Request) -> Response:
        if self.oidc is None:
            return self.refuse(request, 404, "Not found", "no identity provider is configured")
        return await self.oidc.authorize_redirect(request, self.url("/auth/callback"))  # type: ignore[no-any-return]

    async def callback(self, request: Request) -> Response:
        if self.oidc is None:
            return self.refuse(request, 404, "Not found", "no identity provider is configured")
        try:
            token = await self.oidc.authorize_access_token(request)
            person = person_from_claims(dict(token.get("userinfo") or {}), self.settings, self.agents)
        except (InvalidIdentity, Exception) as exc:
            return self.refuse(request, 403, "Login failed", f"the identity provider's answer was refused: {exc}")
        return self.enter(request, person, {"issuer": self.settings.oidc_issuer})

    async def login_dev(self, request: Request) -> Response:
        if not self.settings.dev_login:
            return self.refuse(request, 404, "Not found", "dev login is off")
        form = await request.form()
        if not csrf_ok(request, form):
            return self.refuse(request, 403, "Forbidden", "the form's CSRF token is missing or wrong")
        try:
            name = normalize_principal(str(form.get("name", "")))
        except InvalidIdentity as exc:
            return self.refuse(request, 400, "Bad name", exc.message)
        roles = [str(r) for r in form.getlist("roles")]
        roles = ["viewer"] if is_agent(name, self.agents) else [r for r in CONSOLE_ROLES if r in roles]
        return self.enter(request, Person(name=name, roles=tuple(roles), via="dev"), {})

    def enter(self, request: Request, person: Person, extra: dict[str, Any]) -> Response:
        if not person.roles:
            request.session.clear()
            return self.refuse(request, 403, "No console role", f"{person.name} has no console role")
        target = request.session.get("next")
        begin(request, person, extra)
        safe = target if isinstance(target, str) and target.startswith(f"{BASE}/") and "//" not in target else None
        return RedirectResponse(safe or f"{BASE}/previews", status_code=303)

    async def logout(self, request: Request, person: Person) -> Response:
        request.session.clear()
        return RedirectResponse(f"{BASE}/login", status_code=303)

    # --- pages ----------------------------------------------------------------------------------------------------
    async def previews(self, request: Request, person: Person) -> Response:
        rows = await run_in_threadpool(views.pending, self.engine)
        return self.page(request, "previews.html", section="previews", rows=rows)

    async def preview(self, request: Request, person: Person, error: str | None = None, status: int = 200) -> Response:
        preview_id = request.path_params["preview_id"]
        try:
            view = await run_in_threadpool(views.preview_view, self.engine, preview_id)
        except DataMcpError as exc:
            return self.refuse(request, 404, "No such preview", exc.message)
        message = request.session.pop("flash", None)  # only what this console said after a decision, never a URL's text
        return self.page(request, "preview.html", status, section="previews", view=view, message=message, error=error)

    async def decision(self, request: Request, person: Person) -> Response:
        preview_id, verdict = request.path_params["preview_id"], request.path_params["verdict"]
        form = await request.form()
        try:
            choice = Decision(verdict=verdict, preview_id=preview_id, reason=str(form.get("reason", "")))
            message = await run_in_threadpool(decide, self.engine, choice, person, dict(request.session), self.agents)
        except DataMcpError as exc:
            return await self.preview(request, person, error=f"{exc.code}: {exc.message}", status=409)
        request.session["flash"] = message
        return RedirectResponse(f"{BASE}/previews/{preview_id}", status_code=303)

    async def stacks(self, request: Request, person: Person) -> Response:
        rows = await run_in_threadpool(views.stacks_view, self.engine)
        return self.page(request, "stacks.html", section="stacks", rows=rows)

    async def audit(self, request: Request, person: Person) -> Response:
        filters = {k: request.query_params.get(k) or None for k in ("stack", "user", "status")}
        cursor = request.query_params.get("cursor") or None
        try:
            page = await run_in_threadpool(lambda: self.engine.list_operations(**filters, limit=50, cursor=cursor))
            verified = await run_in_threadpool(self.engine.audit.verify)
        except DataMcpError as exc:
            return self.refuse(request, 400, "Bad filter", exc.message)
        next_query = urlencode({**{k: v for k, v in filters.items() if v}, "cursor": page.next_cursor or ""})
        report = {
            "ok": verified.ok,
            "problems": verified.problems[:5],
            "records": verified.records,
            "records_checked": verified.records_checked,
            "full_verified_at": verified.full_verified_at,  # set when only the records after that verify were read
        }
        return self.page(
            request, "audit.html", section="audit", page=page, filters=filters, verified=report, next_query=next_query
        )

    async def operation(self, request: Request, person: Person) -> Response:
        try:
            record = await run_in_threadpool(self.engine.get_operation, request.path_params["operation_id"])
        except DataMcpError as exc:
            return self.refuse(request, 404, "No such operation", exc.message)
        return self.page(request, "operation.html", section="audit", record=record)

    async def home(self, request: Request) -> Response:
        return RedirectResponse(f"{BASE}/previews", status_code=303)


def console_app(engine: Engine, settings: ConsoleSettings, public_url: str, agents: frozenset[str]) -> Starlette:
    """The console as an ASGI app whose routes live under /console."""
    if settings.dev_login and engine.settings.approval_mode == "signed":
        raise SettingsError("DATAMCP_CONSOLE_DEV_LOGIN trusts any typed name: it is for dev mode only, not signed mode")
    console = Console(engine, settings, public_url, agents)
    secure = check_public_url(public_url)
    secret = settings.session_secret.get_secret_value() if settings.session_secret else secrets.token_urlsafe(32)
    routes = [
        Route("/", console.home),
        Route("/login", console.login),
        Route("/login/start", console.login_start),
        Route("/login/dev", console.login_dev, methods=["POST"]),
        Route("/auth/callback", console.callback),
        Route("/logout", console.guarded("viewer", console.logout), methods=["POST"]),
        Route("/previews", console.guarded("viewer", console.previews)),
        Route("/previews/{preview_id}", console.guarded("viewer", console.preview)),
        Route("/previews/{preview_id}/{verdict:str}", console.guarded("approver", console.decision), methods=["POST"]),
        Route("/stacks", console.guarded("viewer", console.stacks)),
        Route("/audit", console.guarded("viewer", console.audit)),
        Route("/audit/{operation_id}", console.guarded("viewer", console.operation)),
        Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
    ]
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(
            SessionMiddleware,
            secret_key=secret,
            session_cookie="datamcp_console",
            max_age=settings.session_max_age_seconds,
            path=BASE,
            same_site="lax",
            https_only=secure,
        ),
    ]
    return Starlette(routes=[Mount(BASE, routes=routes)], middleware=middleware)


def check_public_url(public_url: str) -> bool:
    """Whether cookies must be Secure: always, except on loopback; plain http elsewhere is refused."""
    parsed = urlparse(public_url)
    loopback = (parsed.hostname or "") in LOOPBACK
    if parsed.scheme == "http" and not loopback:
        raise SettingsError("DATAMCP_CONSOLE_PUBLIC_URL must be https:// unless the console is on loopback")
    return not loopback
