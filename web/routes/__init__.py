"""One module per page group; ``duban.web.app.ROUTERS`` registers them in one place."""
