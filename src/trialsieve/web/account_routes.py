"""Pages of the user lifecycle (web.accounts): one's own password, a reset link, and the
admin's deactivate / reactivate / unlock / reset on the users page."""

# No `from __future__ import annotations`: FastAPI must see the Depends() of closures.

import secrets
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from trialsieve.web import accounts, auth
from trialsieve.web.db import User

ADMIN_ACTIONS = ("deactivate", "activate", "unlock", "reset", "sites")


def account_routes(app: FastAPI, db, policy, clock, page, back, allowed, posted) -> None:
    def ip(request: Request) -> str:
        return request.client.host if request.client else "?"

    @app.get("/password", response_class=HTMLResponse)
    def password_form(request: Request, who: Annotated[Any, Depends(allowed("account"))]):
        return page(request, "password.html", who, min_password=auth.MIN_PASSWORD)

    @app.post("/password")
    def password_change(request: Request, p: Annotated[Any, Depends(posted("account"))]):
        try:
            with db.write() as s:
                user = s.get(User, p.who.user.id)
                accounts.change_own(s, clock(), policy, user, p.get("current"),
                                    p.get("new"), p.get("again"), ip(request))
        except auth.AuthError as exc:
            return back("/password", f"not changed: {exc}")
        return back("/users" if p.who.user.role == auth.ADMIN else "/", "password changed")

    @app.get("/reset/{token}", response_class=HTMLResponse)
    def reset_form(request: Request, token: str):
        return page(request, "reset.html", None, token=token, login_csrf="",
                    min_password=auth.MIN_PASSWORD)

    @app.post("/reset/{token}")
    async def reset(request: Request, token: str):
        form = await request.form()
        new, again = str(form.get("new", "")), str(form.get("again", ""))
        if not secrets.compare_digest(new, again):
            return back(f"/reset/{token}", "the two passwords differ")

        def run():
            with db.write() as s:
                accounts.redeem_reset(s, clock(), token, new)
        try:
            from starlette.concurrency import run_in_threadpool

            await run_in_threadpool(run)
        except auth.AuthError as exc:
            return back(f"/reset/{token}", str(exc))
        return back("/login", "password set: log in with it")

    @app.post("/users/{username}/{action}", response_class=HTMLResponse)
    def user_action(request: Request, username: str, action: str,
                    p: Annotated[Any, Depends(posted("users"))]):
        if action not in ADMIN_ACTIONS:
            return back("/users", "no such action")
        token = None
        try:
            with db.write() as s:
                user = accounts.find(s, username)
                if action == "reset":
                    token = accounts.issue_reset(s, clock(), p.who.user.username, user)
                elif action == "unlock":
                    accounts.unlock(s, clock(), p.who.user.username, user)
                elif action == "sites":
                    accounts.set_sites(s, clock(), p.who.user.username, user,
                                       p.get("sites"))
                else:
                    accounts.set_active(s, clock(), p.who.user.username, user,
                                        action == "activate")
        except auth.AuthError as exc:
            return back("/users", f"not done: {exc}")
        if token is None:
            return back("/users", f"{username}: {action} done")
        # Shown once, on this page only (never in a URL the browser keeps in its history).
        with db.read() as s:
            items = list(s.scalars(select(User).order_by(User.username)))
        return page(request, "users.html", p.who, users=items, roles=auth.ROLES,
                    min_password=auth.MIN_PASSWORD,
                    issued=(username, f"{request.base_url}reset/{token}"))
