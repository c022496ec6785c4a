"""A limit on every request body, counted as it streams in: refused with 413 before the
application reads more than the limit, whether or not the client announced a length
(an anonymous 900 MB POST to /login must not reach memory)."""

from __future__ import annotations

from collections.abc import Callable

UPLOAD_LIMIT = 20 * 1024 * 1024  # the import form: FHIR Bundles and NDJSON files
FORM_LIMIT = 256 * 1024  # every other form (login, entries, signature)


class TooLarge(Exception):
    pass


def limit_for(path: str) -> int:
    return UPLOAD_LIMIT if path == "/import" else FORM_LIMIT


class BodyLimit:
    """ASGI middleware: outermost, so that nothing inside reads past the limit."""

    def __init__(self, app, limit: Callable[[str], int] = limit_for,
                 headers: dict[str, str] | None = None) -> None:
        self.app, self.limit, self.headers = app, limit, headers or {}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.limit(scope["path"])
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            return await self._refuse(send, limit)
        seen = 0
        started = False

        async def counted():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise TooLarge
            return message

        async def watched(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except (TooLarge, BaseExceptionGroup) as exc:
            # Through Starlette's task groups the refusal may come wrapped in a group.
            if isinstance(exc, BaseExceptionGroup) and (
                    exc.subgroup(TooLarge) is None or exc.subgroup(
                        lambda e: not isinstance(e, TooLarge | BaseExceptionGroup))):
                raise
            if not started:
                await self._refuse(send, limit)

    async def _refuse(self, send, limit: int) -> None:
        body = (f"Request too large: at most {limit // (1024 * 1024) or 1} MB here."
                if limit >= 1024 * 1024 else
                f"Request too large: at most {limit // 1024} KB here.").encode()
        headers = [(b"content-type", b"text/plain; charset=utf-8"),
                   (b"content-length", str(len(body)).encode()), (b"connection", b"close")]
        headers += [(k.lower().encode(), v.encode()) for k, v in self.headers.items()]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
