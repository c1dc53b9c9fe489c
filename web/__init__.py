"""The web workspace: server-rendered pages (Jinja2, htmx) and a JSON API over the same services.

Entry point only: each view parses the request, calls one service as the
signed-in person (``duban.web.context.as_person``), and renders.
"""
