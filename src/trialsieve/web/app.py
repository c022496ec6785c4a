"""The workbench's web application (FastAPI, server-rendered Jinja2 pages, plain forms).

No script runs in the pages: the Content-Security-Policy allows none. Every form carries
a CSRF token; every state-changing request writes one audit row.
"""


import base64
import hashlib
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, unquote

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from trialsieve.codes import ATTESTATIONS, LAB_TESTS
from trialsieve.engine import ELIGIBLE, INCOMPLETE, NOT_ELIGIBLE
from trialsieve.fhir import confirmation
from trialsieve.protocols.lumen import LUMEN
from trialsieve.record.from_text import text_source
from trialsieve.web import (
    audit,
    auth,
    csvout,
    entry,
    listing,
    provenance,
    signature,
    sites,
    store,
    submission,
)
from trialsieve.web.account_routes import account_routes
from trialsieve.web.db import DEFAULT_SITE, Database, PatientRow, User, WebSession
from trialsieve.web.headers import SecurityHeaders
from trialsieve.web.limits import UPLOAD_LIMIT as MAX_UPLOAD
from trialsieve.web.limits import BodyLimit
from trialsieve.web.screening import (
    criteria_reading,
    lesion_table,
    screen_record,
    settle_links,
)

HERE = Path(__file__).parent
SESSION_COOKIE = "trialsieve_session"
LOGIN_CSRF_COOKIE = "trialsieve_login_csrf"
# The message of the page a form redirects to ("saved", "refused: ..."), carried by a
# cookie the server sets, never by the URL: no text from a query string is ever shown.
FLASH_COOKIE = "trialsieve_flash"
VERDICT_LABELS = {ELIGIBLE: "eligible", NOT_ELIGIBLE: "not eligible", INCOMPLETE: "incomplete"}


def pending_reasons(verdict: str, reasons: str) -> str:
    """The screening log's reasons for an unsigned screening: an incomplete one's
    criteria still unknown said as such (as `export`'s log says them); bare, "EXCL09
    refuses contraception" read as a reason found."""
    return f"screening not complete: {reasons}" if verdict == INCOMPLETE and reasons \
        else reasons


HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Strict-Transport-Security": "max-age=31536000",
    "Cache-Control": "no-store",
}


def styled_by_hash(html: str) -> str:
    """The app's CSP, letting in the inline style blocks of this document by their hash
    (the checklist is one self-contained file, also filed outside the app), and still no
    script and no inline style attribute."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(m.encode()).digest()).decode() + "'"
        for m in re.findall(r"<style[^>]*>(.*?)</style>", html, re.S))
    return HEADERS["Content-Security-Policy"].replace(
        "style-src 'self'", f"style-src 'self' {hashes}".rstrip())


def confirmed_spans(rows: list) -> set[str]:
    """The report sentences a standing entry made here confirms (issue 21)."""
    out = set()
    for r in rows:
        res = json.loads(r.content) if r.origin == "entry" else {}
        if res.get("status") != "entered-in-error" and (
                span := confirmation.confirmed_span(res)):
            out.add(span)
    return out


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class NeedLogin(Exception):
    def __init__(self, why: str) -> None:
        self.why = why


class MustChange(Exception):
    """A password someone else chose (or reset): its owner replaces it first."""


class Resubmitted(Exception):
    """A form posted a second time: the first one did what it asked."""

    def __init__(self, path: str) -> None:
        self.path = path


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        self.status, self.message = status, message


@dataclass
class Who:
    user: User
    session: WebSession

    @property
    def author(self) -> str:
        return f"{self.user.display_name} ({self.user.role})"


@dataclass
class Posted:
    who: Who
    form: dict[str, Any]

    def get(self, name: str) -> str:
        v = self.form.get(name, "")
        return v if isinstance(v, str) else ""


def create_app(db: Database, *, policy: auth.Policy | None = None,
               clock: Callable[[], datetime] = utcnow, as_of: date | None = None,
               secure_cookies: bool = True) -> FastAPI:
    """`as_of` fixes the screening date (demos on dated examples); default: today (UTC)."""
    policy = policy or auth.Policy()
    verdicts = listing.VerdictCache()
    app = FastAPI(title="trialsieve workbench", docs_url=None, redoc_url=None,
                  openapi_url=None)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    row_template = templates.env.get_template("patient_row.html")
    row_html = listing.RowHtml()  # each list row's HTML, under its exact stored values
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    def today() -> date:
        return as_of or clock().date()

    app.add_middleware(SecurityHeaders, headers=HEADERS)
    # Added last: the outermost layer, counting each body before anything reads it.
    app.add_middleware(BodyLimit, headers=HEADERS)

    # -- who is asking ----------------------------------------------------------------

    def _who(token: str | None) -> Who:
        # most requests: a live session, touched less than a minute ago, read as one row
        live = auth.live_session(db, clock(), policy, token)
        if live is not None:
            return Who(live[1], live[0])
        with db.write() as s:
            found = auth.session_for(s, clock(), policy, token)
            s.flush()  # last_seen or ended_at, before the objects leave the session
            s.expunge_all()
        if isinstance(found, str):  # raised after the commit: an expiry is kept
            raise NeedLogin(found)
        ws, user = found
        return Who(user, ws)

    def _gate(who: Who, permission: str) -> None:
        if who.user.must_change and permission not in ("account", "logout"):
            raise MustChange()

    def allowed_now(request: Request, permission: str) -> Who:
        """Who asks, if allowed to `permission`; refused otherwise. In a worker thread."""
        who = _who(request.cookies.get(SESSION_COOKIE))
        request.state.who = who
        _gate(who, permission)
        if not auth.can(who.user.role, permission):
            raise Refused(403, f"your role ({who.user.role}) may not {permission}")
        return who

    def allowed(permission: str):
        async def dep(request: Request) -> Who:
            return await run_in_threadpool(allowed_now, request, permission)
        return dep

    def posted(permission: str):
        """A form post by a user allowed to `permission`, with a valid CSRF token."""
        async def dep(request: Request) -> Posted:
            who = await run_in_threadpool(_who, request.cookies.get(SESSION_COOKIE))
            request.state.who = who
            form = await request.form(max_part_size=MAX_UPLOAD)
            token = form.get("csrf")
            if not isinstance(token, str) or not secrets.compare_digest(
                    token, who.session.csrf):
                raise Refused(403, "the form has expired or did not come from this site "
                              "(CSRF token): reload the page and try again")
            _gate(who, permission)
            if not auth.can(who.user.role, permission):
                raise Refused(403, f"your role ({who.user.role}) may not {permission}")
            once = form.get("once")
            if isinstance(once, str) and once:
                def first() -> bool:
                    with db.write() as s:
                        return submission.use(s, clock(), who.session.id, once[:100])
                if not await run_in_threadpool(first):
                    raise Resubmitted(request.url.path)
            return Posted(who, dict(form))
        return dep

    @app.exception_handler(NeedLogin)
    async def need_login(request: Request, exc: NeedLogin):
        url = "/login"
        if request.method == "GET" and request.url.path != "/":
            url += f"?next={quote(request.url.path)}"
        return back(url, exc.why)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        """Unknown URLs and methods: the app's own page, or under /api a JSON error."""
        message = {404: "no such page", 405: "not possible with this method"}.get(
            exc.status_code, str(exc.detail))
        if request.url.path == "/api" or request.url.path.startswith("/api/"):
            return JSONResponse({"error": message, "path": request.url.path},
                                status_code=exc.status_code)
        return page(request, "error.html", None, exc.status_code, message=message)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        return page(request, "error.html", None, 400,
                    message="the address or form has a value that cannot be used")

    @app.exception_handler(MustChange)
    async def must_change(request: Request, exc: MustChange):
        return back("/password", "choose your own password before going on")

    @app.exception_handler(Resubmitted)
    async def resubmitted(request: Request, exc: Resubmitted):
        parts = exc.path.split("/")
        target = "/".join(parts[:3]) if parts[1:2] == ["patients"] else "/"
        return back(target, "this form was sent already: it was done once, not twice")

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused):
        who = getattr(request.state, "who", None)
        return page(request, "error.html", who, exc.status, message=exc.message)

    def page(request: Request, name: str, who: Who | None, status: int = 200,
             **context: Any) -> HTMLResponse:
        flash = request.cookies.get(FLASH_COOKIE)
        context.update(user=who.user if who else None, csrf=who.session.csrf if who else "",
                       can=(lambda p: auth.can(who.user.role, p)) if who else (lambda p: False),
                       msg=unquote(flash or ""), today=today(), once=submission.token,
                       protocol=LUMEN, verdicts=VERDICT_LABELS, default_site=DEFAULT_SITE)
        response = templates.TemplateResponse(request, name, context, status_code=status)
        if flash is not None:  # shown once
            response.delete_cookie(FLASH_COOKIE, path="/")
        return response

    def back(url: str, msg: str = "") -> RedirectResponse:
        response = RedirectResponse(url, status_code=303)
        if msg:
            response.set_cookie(FLASH_COOKIE, quote(msg[:600]), max_age=120, httponly=True,
                                secure=secure_cookies, samesite="strict", path="/")
        return response

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon():
        # browsers ask for it on pages that name no icon (the filed checklist)
        return Response((HERE / "static" / "favicon.svg").read_bytes(),
                        media_type="image/svg+xml")

    # -- login ------------------------------------------------------------------------

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request):
        token = secrets.token_urlsafe(32)
        response = page(request, "login.html", None, login_csrf=token,
                        next=request.query_params.get("next", ""))
        response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, secure=secure_cookies,
                            samesite="strict", path="/login")
        return response

    @app.post("/login")
    async def login(request: Request):
        form = await request.form()
        token, cookie = form.get("csrf"), request.cookies.get(LOGIN_CSRF_COOKIE)
        if not isinstance(token, str) or not cookie or not secrets.compare_digest(token,
                                                                                  cookie):
            raise Refused(403, "the login form has expired (CSRF token): reload it")
        ip = request.client.host if request.client else "?"

        def attempt():
            with db.write() as s:
                try:
                    user, session_token = auth.login(
                        s, clock(), policy, str(form.get("username", "")),
                        str(form.get("password", "")), ip)
                    return user, session_token, None
                except auth.AuthError as exc:
                    return None, None, str(exc)

        user, session_token, error = await run_in_threadpool(attempt)
        if error or user is None:
            return back("/login", error)
        nxt = str(form.get("next", ""))
        target = nxt if nxt.startswith("/") and not nxt.startswith("//") else (
            "/users" if user.role == auth.ADMIN else "/")
        if user.must_change:
            target = "/password"
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(SESSION_COOKIE, session_token, httponly=True,
                            secure=secure_cookies, samesite="strict", path="/")
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
        return response

    @app.post("/logout")
    def logout(p: Annotated[Posted, Depends(posted("logout"))]):
        with db.write() as s:
            ws = s.get(WebSession, p.who.session.id)
            if ws is not None:  # None: ended meanwhile (another tab), nothing left to end
                auth.logout(s, clock(), ws, p.who.user)
        response = back("/login", "logged out")
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    # -- patients -----------------------------------------------------------------------

    def _patient(s, number: str, who: Who) -> PatientRow:
        patient = store.patient_by_number(s, number)
        if patient is None or not sites.sees(who.user, patient):
            # another site's patient is answered as none: its existence is not told
            raise Refused(404, f"no patient {number}")
        return patient

    def _read(who: Who, action: str, entity: str, new: Any = None) -> None:
        """A read or an export of patient data: who, which patient, when, in the chain.
        Committed without waiting for the disk (audit.record_read): a power cut may lose
        the newest read rows, never a clinical write, never the chain."""
        audit.record_read(db, clock(), who.user.username, action, entity, new)

    @app.get("/", response_class=HTMLResponse)
    def patients(request: Request, q: str = "",
                 page_no: Annotated[int, Query(alias="page", ge=0)] = 0):
        # who asks, in this route's worker thread: one hop to the thread pool, not two,
        # on the page every user loads most
        who = allowed_now(request, "read")
        identify = auth.can(who.user.role, "identify")

        def render(entry: tuple) -> Markup:
            p, ident, result, sig = entry
            return Markup(row_template.render(p=p, ident=ident, result=result, sig=sig,
                                              identify=identify, verdicts=VERDICT_LABELS))
        shown = listing.page_of(db, verdicts, row_html, render, today(), q[:100], page_no,
                                identify, sites.of(who.user))
        if shown.numbers:
            _read(who, "read-list", "patients", {"patients": shown.numbers})
        # the rows' HTML (web/templates/patient_row.html, escaped there) as one piece
        return page(request, "patients.html", who, rows=Markup("\n".join(shown.rows)),
                    q=q[:100], page_no=page_no, total=shown.total, per_page=listing.PAGE,
                    identify=identify, my_sites=sites.of(who.user))

    @app.get("/worklist", response_class=HTMLResponse)
    def worklist_page(request: Request, who: Annotated[Who, Depends(allowed("read"))]):
        identify = auth.can(who.user.role, "identify")
        rows = listing.waiting(db, verdicts, today(), identify, sites.of(who.user))
        if rows:
            _read(who, "read-list", "worklist",
                  {"patients": [r[0].screening_number for r in rows]})
        return page(request, "worklist.html", who, rows=rows, identify=identify)

    @app.post("/import")
    async def import_(request: Request, p: Annotated[Posted, Depends(posted("import"))]):
        form = await request.form(max_part_size=MAX_UPLOAD)  # cached: the same form
        uploads = [f for f in form.getlist("file") if isinstance(f, UploadFile) and f.filename]
        if not uploads:
            return back("/", "choose a FHIR Bundle (.json) or NDJSON (.ndjson) file")
        files = [(f.filename or "", await f.read()) for f in uploads]
        try:
            site = sites.for_import(p.who.user, p.get("site"))
        except sites.SiteError as exc:
            return back("/", f"not imported: {exc}")

        def run():
            with db.write() as s:
                rows = store.import_upload(s, clock(), p.who.user.username, files, site)
                return [r.screening_number for r in rows]
        try:
            numbers = await run_in_threadpool(run)
        except store.ImportError_ as exc:
            return back("/", f"not imported: {exc}")
        if len(numbers) == 1:
            return back(f"/patients/{numbers[0]}", f"imported as {numbers[0]}")
        return back("/", "imported as " + ", ".join(numbers))

    @app.get("/patients/{number}", response_class=HTMLResponse)
    def patient_page(request: Request, number: str, who: Annotated[Who, Depends(allowed("read"))]):
        with db.read() as s:
            p = _patient(s, number, who)
            res = store.resources(s, p)
            record_hash = store.record_hash(res)
            # the record assembled once: its imported answers, and the screening's input
            # when the screening is not cached already
            record, imported = provenance.screened(res, p.screening_number, p.fhir_id)
            sc = verdicts.screening(p, lambda: record, record_hash, today())
            sigs = signature.signatures(s, p, record_hash)
            entries = [(r, json.loads(r.content)) for r in res if r.origin == "entry"]
            ident = next((listing.identity(json.loads(r.content)) for r in res
                          if r.resource_type == "Patient" and r.resource_id == p.fhir_id),
                         None) if auth.can(who.user.role, "identify") else None
        cols, lesions = lesion_table(sc)
        _read(who, "read", number)
        return page(request, "screening.html", who, patient=p, sc=sc, sigs=sigs,
                    confirmed_text=confirmed_spans(res),
                    record_hash=record_hash, settle=settle_links, lesion_cols=cols,
                    lesions=lesions, entries=entries, imported=imported, ident=ident,
                    questions=ATTESTATIONS, meanings=signature.MEANINGS,
                    statement=signature.statement)

    @app.post("/patients/{number}/dates")
    def set_dates(number: str, p: Annotated[Posted, Depends(posted("enter"))]):
        try:
            inclusion = date.fromisoformat(p.get("inclusion")) if p.get("inclusion") else None
            d0 = date.fromisoformat(p.get("d0")) if p.get("d0") else None
        except ValueError:
            return back(f"/patients/{number}", "dates must be YYYY-MM-DD")
        if inclusion and d0 and inclusion > d0:
            return back(f"/patients/{number}", "the inclusion date must be on or before D0")
        with db.write() as s:
            pt = _patient(s, number, p.who)
            old = {"inclusion": pt.planned_inclusion, "d0": pt.planned_d0}
            pt.planned_inclusion, pt.planned_d0 = inclusion, d0
            audit.record(s, clock(), p.who.user.username, "planned-dates", number, old=old,
                         new={"inclusion": inclusion, "d0": d0}, covers=[pt])
        return back(f"/patients/{number}", "planned dates saved")

    @app.get("/patients/{number}/export")
    def export(number: str, who: Annotated[Who, Depends(allowed("export"))]):
        with db.read() as s:
            p = _patient(s, number, who)
            body = json.dumps(store.bundle(store.resources(s, p)), indent=1,
                              ensure_ascii=False)
        _read(who, "export", number, {"what": "FHIR bundle"})
        return Response(body, media_type="application/fhir+json", headers={
            "Content-Disposition": f'attachment; filename="{number}.json"'})

    @app.get("/patients/{number}/signatures/{sig_id}/checklist.{fmt}")
    def signed_checklist(number: str, sig_id: int, fmt: str,
                         who: Annotated[Who, Depends(allowed("export"))]):
        """The eligibility checklist of a signed screening, for the trial master file; the
        JSON is what `trialsieve report` renders to the same checklist."""
        from trialsieve.output.checklist import checklist_html, checklist_pdf

        if fmt not in ("pdf", "html", "json"):
            raise Refused(404, "no such format")
        with db.read() as s:
            p = _patient(s, number, who)
            view = next((v for v in signature.signatures(
                s, p, store.record_hash(store.resources(s, p))) if v.sig.id == sig_id), None)
            if view is None:
                raise Refused(404, "no such signature")
            doc = signature.filed(p, view)
        _read(who, "export", f"{number}/signature/{sig_id}", {"what": f"checklist {fmt}"})
        name = f"checklist-{number}-signature-{sig_id}.{fmt}"
        body, kind = ((checklist_pdf(doc), "application/pdf") if fmt == "pdf" else
                      (checklist_html(doc), "text/html") if fmt == "html" else
                      (json.dumps(doc, indent=1, ensure_ascii=False), "application/json"))
        headers = {"Content-Disposition": f'{"inline" if fmt == "html" else "attachment"}; '
                                          f'filename="{name}"'}
        if isinstance(body, str):
            headers["Content-Security-Policy"] = styled_by_hash(body)
        return Response(body, media_type=kind, headers=headers)

    @app.get("/patients/{number}/resources/{rtype}/{rid}", response_class=HTMLResponse)
    def resource(request: Request, number: str, rtype: str, rid: str,
                 who: Annotated[Who, Depends(allowed("read"))]):
        with db.read() as s:
            p = _patient(s, number, who)
            row = store.find_resource(s, p, rtype, rid)
            if row is None:
                raise Refused(404, f"no {rtype}/{rid} in {number}")
        _read(who, "read", f"{number}/{rtype}/{rid}")
        text = json.dumps(json.loads(row.content), indent=2, ensure_ascii=False)
        return page(request, "resource.html", who, patient=p, row=row, text=text)

    # -- data entry ---------------------------------------------------------------------

    def _kind(key: str) -> entry.EntryKind:
        if key not in entry.KINDS:
            raise Refused(404, f"no form {key!r}")
        return entry.KINDS[key]

    def _entry_context(s, p: PatientRow, who: Who) -> entry.EntryContext:
        rows = store.resources(s, p)
        scans = tuple((st.source, f"{st.modality.replace('_', ' ')} {st.date}", st.date)
                      for st in store.record_of(p, rows).imaging)
        lesions: dict[str, str] = {}  # lesion identifier -> BodyStructure id
        for r in rows:
            if r.resource_type == "BodyStructure":
                body = json.loads(r.content)
                body_id = body.get("id")
                for ident in body.get("identifier") or []:
                    if (isinstance(body_id, str) and isinstance(ident, dict)
                            and isinstance(ident.get("value"), str)):
                        lesions.setdefault(ident["value"], body_id)
        return entry.EntryContext(p.fhir_id, who.author, today(), clock(), scans, lesions)

    def _form_page(request: Request, who: Who, p: PatientRow, kind: entry.EntryKind,
                   ctx: entry.EntryContext, values: dict, error: entry.EntryError | None):
        return page(request, "entry.html", who, 422 if error else 200, patient=p, kind=kind,
                    fields=kind.fields(ctx), values=values, error=error,
                    questions=[(q, question.text, criteria_reading(q)) for q, question in
                               ATTESTATIONS.items()] if kind.key == "attestation" else [])

    @app.get("/patients/{number}/entry/{key}", response_class=HTMLResponse)
    def entry_form(request: Request, number: str, key: str,
                   who: Annotated[Who, Depends(allowed("read"))], preset: str = ""):
        kind = _kind(key)
        if not auth.can(who.user.role, kind.permission):
            raise Refused(403, f"your role ({who.user.role}) may not {kind.permission}")
        with db.read() as s:
            p = _patient(s, number, who)
            ctx = _entry_context(s, p, who)
        values = {"date": today().isoformat(), "question": preset, "test": preset}
        if key in ("lab", "marker") and preset in LAB_TESTS:
            values["unit"] = LAB_TESTS[preset].unit
        _read(who, "read", f"{number}/entry/{key}")  # the form shows the patient's scans
        return _form_page(request, who, p, kind, ctx, values, None)

    @app.post("/patients/{number}/entry/{key}")
    def entry_save(request: Request, number: str, key: str,
                   p: Annotated[Posted, Depends(posted("read"))]):
        kind = _kind(key)
        if not auth.can(p.who.user.role, kind.permission):
            raise Refused(403, f"your role ({p.who.user.role}) may not {kind.permission}")
        values = {k: v for k, v in p.form.items() if isinstance(v, str) and k != "csrf"}
        with db.write() as s:
            pt = _patient(s, number, p.who)
            ctx = _entry_context(s, pt, p.who)
            try:
                built = kind.build(values, ctx)
            except entry.EntryError as exc:  # nothing was written
                return _form_page(request, p.who, pt, kind, ctx, values, exc)
            written = [store.add_resource(s, clock(), p.who.user.username, pt, res, "entry")
                       for res in built]
            main = built[-1]
            audit.record(s, clock(), p.who.user.username, f"enter-{key}",
                         f"{number}/{main['resourceType']}/{main['id']}", new=built,
                         covers=written)
        return back(f"/patients/{number}", f"{kind.title.lower()} saved")

    @app.post("/patients/{number}/confirm/{rtype}/{rid}")
    def confirm(number: str, rtype: str, rid: str,
                p: Annotated[Posted, Depends(posted("attest"))]):
        """An investigator takes an imported answer as their own: a new answer in their
        name, derived from the imported resource; only then does it settle anything."""
        with db.write() as s:
            pt = _patient(s, number, p.who)
            rows = store.resources(s, pt)
            held = next((a for a in store.imported_answers(pt, rows)
                         if provenance.source_key(a.row) == f"{rtype}/{rid}"
                         and a.question == p.get("question")), None)
            if held is None:
                raise Refused(404, "no such imported answer")
            if held.confirmed:
                return back(f"/patients/{number}", "already confirmed")
            ctx = _entry_context(s, pt, p.who)
            # stated when the file says (with its time of day), else now
            kept = held.date is not None and held.date <= today()
            on = held.date if kept and held.date else today()
            answer = {"question": held.question, "answer": "yes" if held.answer else "no",
                      "date": on.isoformat(), "time": (held.time or "")[:5] if kept else ""}
            try:
                built = entry.build_attestation(answer, ctx)
            except entry.EntryError:  # the file's time is later than now: now, then
                built = entry.build_attestation(answer | {"time": ""}, ctx)
            built[0]["derivedFrom"] = [{"reference": f"{rtype}/{rid}"}]
            row = store.add_resource(s, clock(), p.who.user.username, pt, built[0], "entry")
            audit.record(s, clock(), p.who.user.username, "confirm-attestation",
                         f"{number}/Observation/{built[0]['id']}", new=built, covers=[row])
        return back(f"/patients/{number}", f"answer confirmed: {held.question}")

    @app.post("/patients/{number}/confirm-text")
    def confirm_text(number: str, p: Annotated[Posted, Depends(posted("attest"))]):
        """An investigator confirms what a report's sentence suggests, in one click: the
        coded fact it states is recorded in their name, pointing to the document and the
        sentence's span (fhir/confirmation.py); from then on it decides like any entry."""
        source = p.get("source")
        with db.write() as s:
            pt = _patient(s, number, p.who)
            rows = store.resources(s, pt)
            said = [m for m in store.record_of(pt, rows).mentions
                    if text_source(m) == source]
            if not said:
                raise Refused(404, "no such sentence in this patient's reports")
            if source in confirmed_spans(rows):
                return back(f"/patients/{number}", "already confirmed")
            built = confirmation.resources(said, pt.fhir_id, p.who.author, today(), clock())
            if not built:
                return back(f"/patients/{number}", "nothing this sentence states can be "
                            "recorded by a confirmation: use an entry form")
            written = [store.add_resource(s, clock(), p.who.user.username, pt, res, "entry")
                       for res in built]
            audit.record(s, clock(), p.who.user.username, "confirm-text",
                         f"{number}/{built[0]['resourceType']}/{built[0]['id']}", new=built,
                         covers=written)
        return back(f"/patients/{number}", f"confirmed from {source}")

    @app.post("/patients/{number}/withdraw/{rtype}/{rid}")
    def withdraw(number: str, rtype: str, rid: str, p: Annotated[Posted, Depends(posted("enter"))]):
        with db.write() as s:
            pt = _patient(s, number, p.who)
            row = store.find_resource(s, pt, rtype, rid)
            if row is None or row.origin != "entry":
                raise Refused(404, "only an entry made here can be withdrawn here")
            is_attestation = json.loads(row.content).get("code", {}).get("coding", [{}])[0] \
                .get("code") in ATTESTATIONS
            if is_attestation and not auth.can(p.who.user.role, "attest"):
                raise Refused(403, "only an investigator may withdraw an attestation")
            try:
                store.withdraw(s, clock(), p.who.user.username, pt, row, p.get("reason"))
            except ValueError as exc:  # refused before any change
                return back(f"/patients/{number}", str(exc))
        return back(f"/patients/{number}", f"{rtype}/{rid} withdrawn")

    # -- signature ----------------------------------------------------------------------

    @app.post("/patients/{number}/sign")
    def sign(request: Request, number: str, p: Annotated[Posted, Depends(posted("sign"))]):
        with db.write() as s:
            pt = _patient(s, number, p.who)
            user = s.get(User, p.who.user.id)
            if user is None:  # removed since this request was authenticated
                raise Refused(403, "this account no longer exists")
            res = store.resources(s, pt)
            record_hash = store.record_hash(res)
            seen = (p.get("record_hash"), p.get("protocol_hash"))
            standing = [v for v in signature.signatures(s, pt, record_hash)
                        if v.superseded is None]
            if seen != (record_hash, LUMEN.hash):
                # What is signed is what the page showed: a lab added since, or a new
                # protocol encoding, needs a fresh look first.
                why = "the record changed since the page was shown: review it and sign again"
                audit.record(s, clock(), user.username, "sign-refused",
                             f"{number}/signature", new={"why": why, "seen": seen[0]})
                msg = f"signature refused: {why}"
            elif standing:
                msg = "signature refused: a signature of this screening stands already"
                audit.record(s, clock(), user.username, "sign-refused",
                             f"{number}/signature", new={"why": "signed already"})
            elif not auth.reauthenticate(s, clock(), policy, user, p.get("password"),
                                         request.client.host if request.client else "?"):
                audit.record(s, clock(), user.username, "sign-refused",
                             f"{number}/signature", new={"why": "wrong password"})
                msg = "signature refused: wrong password"
            else:
                sc = screen_record(store.record_of(pt, res), today(), pt.planned_inclusion,
                                   pt.planned_d0, with_window=False)
                try:
                    signature.sign(s, clock(), user, pt, p.get("meaning"), sc.result,
                                   record_hash)
                    msg = "signed"
                except signature.SignError as exc:
                    audit.record(s, clock(), user.username, "sign-refused",
                                 f"{number}/signature", new={"why": str(exc)})
                    msg = f"signature refused: {exc}"
        return back(f"/patients/{number}", msg)

    # -- audit trail, screening log, users ---------------------------------------------

    @app.get("/audit", response_class=HTMLResponse)
    def audit_page(request: Request, who: Annotated[Who, Depends(allowed("audit"))]):
        with db.read() as s:
            check = audit.verify(s)
            items = _audit_rows(s, who, limit=500)
        return page(request, "audit.html", who, rows=items, check=check)

    def _audit_rows(s, who: Who, limit: int | None = None) -> list[audit.Shown]:
        """The trail as this user may see it: an admin manages the accounts of every
        site, not patients (no clinical value, no patient's file name); others see their
        sites' patients, and the accounts that share a site with them."""
        if who.user.role == auth.ADMIN:
            return audit.shown(audit.rows(s, limit=limit), clinical=False)
        mine = set(sites.of(who.user))
        hidden = {n for n, site in s.execute(select(PatientRow.screening_number,
                                                    PatientRow.site))
                  if site not in mine}
        colleagues = {u.username for u in s.scalars(select(User))
                      if mine & set(sites.of(u))}
        return audit.shown(audit.rows(s, limit=limit), clinical=True, hidden=hidden,
                           accounts=colleagues)

    @app.get("/audit.csv")
    def audit_csv(who: Annotated[Who, Depends(allowed("audit"))]):
        with db.read() as s:
            body = audit.to_csv(_audit_rows(s, who))
        return Response(body, media_type="text/csv", headers={
            "Content-Disposition": 'attachment; filename="audit-trail.csv"'})

    def _log(who: Who) -> list[dict[str, str]]:
        """The screening log, from the list's summary rows (web.listing.log): a patient's
        record is screened only when its row is stale."""
        out = []
        for row, view in listing.log(db, verdicts, today(), sites.of(who.user)):
            number = row.patient.screening_number
            if view is not None:
                sig = view.sig
                frozen = json.loads(sig.result_json)
                why = [f"{c['id']} {c['summary']}" for c in frozen["criteria"]
                       if (c["category"] == "inclusion" and c["status"] == "not_met")
                       or (c["category"] == "exclusion" and c["status"] == "met")]
                out.append({"screening_number": number,
                            "screening_date": sig.as_of.isoformat(),
                            "outcome": f"{signature.MEANINGS[sig.meaning]} (signed "
                            f"{sig.signed_at:%Y-%m-%d} by {sig.display_name})",
                            "reasons": "; ".join(why)})
            else:
                out.append({"screening_number": number,
                            "screening_date": today().isoformat(),
                            "outcome": f"pending: {VERDICT_LABELS[row.verdict]}, not signed",
                            "reasons": pending_reasons(row.verdict, row.reasons)})
        return out

    @app.get("/log", response_class=HTMLResponse)
    def log_page(request: Request, who: Annotated[Who, Depends(allowed("read"))]):
        rows = _log(who)
        _read(who, "read-list", "screening-log",
              {"patients": [r["screening_number"] for r in rows]})
        return page(request, "log.html", who, rows=rows)

    @app.get("/log.csv")
    def log_csv(who: Annotated[Who, Depends(allowed("export"))]):
        header = ("screening_number", "screening_date", "outcome", "reasons")
        rows = _log(who)
        _read(who, "export", "screening-log",
              {"patients": [r["screening_number"] for r in rows]})
        body = csvout.table(header, ([row[k] for k in header] for row in rows))
        return Response(body, media_type="text/csv", headers={
            "Content-Disposition": 'attachment; filename="screening-log.csv"'})

    @app.get("/users", response_class=HTMLResponse)
    def users_page(request: Request, who: Annotated[Who, Depends(allowed("users"))]):
        with db.read() as s:
            items = list(s.scalars(select(User).order_by(User.username)))
        return page(request, "users.html", who, users=items, roles=auth.ROLES,
                    min_password=auth.MIN_PASSWORD)

    @app.post("/users")
    def add_user(p: Annotated[Posted, Depends(posted("users"))]):
        try:
            with db.write() as s:
                auth.add_user(s, clock(), p.who.user.username, p.get("username"),
                              p.get("password"), p.get("role"), p.get("display_name"),
                              must_change=True, sites=p.get("sites"))
        except auth.AuthError as exc:
            return back("/users", f"not added: {exc}")
        return back("/users", f"user {p.get('username')} added")

    account_routes(app, db, policy, clock, page, back, allowed, posted)
    return app
