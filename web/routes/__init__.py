"""One module per page group; ``web.app.ROUTERS`` registers them in one place."""
