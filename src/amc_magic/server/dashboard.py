"""The dashboard page ``/amc-magic/`` and its static files, both behind Jupyter's login.

The page is ``static/index.html`` with the server's base URL and the XSRF token filled into data
attributes of ``<body>`` (the script reads them; there is no inline script). The files are plain
HTML, CSS and JavaScript in the package: no CDN, no build step.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.utils import url_path_join
from tornado import web

STATIC_DIR = Path(__file__).resolve().parent / "static"
PAGE_PATH = "amc-magic"


class DashboardHandler(JupyterHandler):
    """Serves the dashboard page; an anonymous browser is sent to Jupyter's login page."""

    @web.authenticated
    def get(self) -> None:
        page = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
        values = {
            "base_url": self.base_url,
            "static_url": url_path_join(self.base_url, PAGE_PATH, "static") + "/",
            "xsrf_token": self.xsrf_token.decode("ascii"),
        }
        for name, value in values.items():
            page = page.replace("{{" + name + "}}", html.escape(value, quote=True))
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(page)


class DashboardFileHandler(JupyterHandler, web.StaticFileHandler):
    """The dashboard's CSS and JavaScript, for logged-in users only."""

    @web.authenticated
    def get(self, path: str, include_body: bool = True) -> Any:
        return web.StaticFileHandler.get(self, path, include_body)

    @web.authenticated
    def head(self, path: str) -> Any:
        return web.StaticFileHandler.get(self, path, include_body=False)


class DashboardSlashHandler(JupyterHandler):
    """``/amc-magic`` → ``/amc-magic/``."""

    @web.authenticated
    def get(self) -> None:
        self.redirect(url_path_join(self.base_url, PAGE_PATH) + "/")


def dashboard_handlers(base_url: str = "/") -> list[tuple[Any, ...]]:
    """The page's routes under ``base_url``."""
    page = url_path_join(base_url, PAGE_PATH)
    return [
        (page, DashboardSlashHandler),
        (page + "/", DashboardHandler),
        (url_path_join(page, "static", "(.*)"), DashboardFileHandler, {"path": str(STATIC_DIR)}),
    ]
