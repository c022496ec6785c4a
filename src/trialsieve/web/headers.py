"""The security headers every answer carries (no script, no framing, no sniffing, no
caching...), added as the answer starts. Plain ASGI middleware: Starlette's
BaseHTTPMiddleware cost each request a task and a stream (a twentieth of a list page's
time). A header a route set itself (the checklist's own Content-Security-Policy) is kept."""

from __future__ import annotations


class SecurityHeaders:
    def __init__(self, app, headers: dict[str, str]) -> None:
        self.app = app
        self.headers = [(k.lower().encode("latin-1"), v.encode("latin-1"))
                        for k, v in headers.items()]

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(message):
            if message["type"] == "http.response.start":
                given = message.get("headers") or []
                have = {k.lower() for k, _ in given}
                message = {**message, "headers": [*given, *(
                    h for h in self.headers if h[0] not in have)]}
            await send(message)

        await self.app(scope, receive, with_headers)
