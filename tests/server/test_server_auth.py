"""Jupyter's authentication on every route, XSRF on writes, and how the extension is installed."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from tornado.httpclient import HTTPClientError

from amc_magic.history import HistoryStore
from server_support import as_json, assert_no_secret, body_text, seed

pytestmark = pytest.mark.timeout(60)
ROOT = Path(__file__).resolve().parents[2]
NO_TOKEN = {"Authorization": ""}
ROUTES = [
    ("GET", ("executions",)),
    ("GET", ("executions", "{id}")),
    ("GET", ("executions", "{id}", "result")),
    ("GET", ("executions", "{id}", "preview")),
    ("POST", ("executions", "{id}", "cancel")),
    ("GET", ("changes",)),
    ("GET", ("status",)),
]


@pytest.fixture
def made(db_url: str):
    store = HistoryStore.from_url(db_url)
    yield seed(store)
    store.close()


def route(parts: tuple[str, ...], local_id: str) -> list[str]:
    return ["amc-magic", "api", *(part.format(id=local_id) for part in parts)]


@pytest.mark.parametrize(("method", "parts"), ROUTES, ids=[" ".join((m, *p)) for m, p in ROUTES])
async def test_every_api_route_needs_the_token_and_works_with_it(jp_fetch, made, method, parts) -> None:
    target = made["creating"] if method == "POST" else made["succeeded"]
    body = {"body": b""} if method == "POST" else {}
    with pytest.raises(HTTPClientError) as refused:
        await jp_fetch(*route(parts, target.id), method=method, headers=NO_TOKEN, **body)
    assert refused.value.code == 403
    assert target.id not in body_text(refused.value.response)
    with pytest.raises(HTTPClientError) as wrong:
        await jp_fetch(*route(parts, target.id), method=method, headers={"Authorization": "token not-the-token"}, **body)
    assert wrong.value.code == 403
    answered = await jp_fetch(*route(parts, target.id), method=method, **body)
    assert answered.code == 200
    assert_no_secret([body_text(answered)])


async def test_the_dashboard_and_its_files_need_a_login(jp_fetch, jp_serverapp) -> None:
    for parts in (("amc-magic/",), ("amc-magic",), ("amc-magic", "static", "dashboard.js")):
        with pytest.raises(HTTPClientError) as refused:
            await jp_fetch(*parts, headers=NO_TOKEN, follow_redirects=False)
        assert refused.value.code in (302, 403), parts
        if refused.value.code == 302:
            assert "/login" in refused.value.response.headers["Location"]
    page = await jp_fetch("amc-magic/")
    html = body_text(page)
    assert page.headers["Content-Type"].startswith("text/html")
    assert 'id="executions"' in html and 'id="detail"' in html and "{{" not in html
    assert 'data-base-url="/a%40b/"' in html and 'src="/a%40b/amc-magic/static/dashboard.js"' in html
    assert jp_serverapp.identity_provider.token not in html
    script = await jp_fetch("amc-magic", "static", "dashboard.js")
    assert "javascript" in script.headers["Content-Type"] and b"amc-magic/api/" in script.body
    style = await jp_fetch("amc-magic", "static", "dashboard.css")
    assert b".status-SUCCEEDED" in style.body
    redirect = await jp_fetch("amc-magic", follow_redirects=False, raise_error=False)
    assert redirect.code == 302 and redirect.headers["Location"].endswith("/a%40b/amc-magic/")


async def test_a_cookie_login_must_send_the_xsrf_token_to_cancel(jp_fetch, jp_serverapp, made) -> None:
    token = jp_serverapp.identity_provider.token
    page = await jp_fetch("amc-magic/", headers=NO_TOKEN, params={"token": token})
    cookies = SimpleCookie()
    for header in page.headers.get_list("Set-Cookie"):
        cookies.load(header)
    assert "_xsrf" in cookies and any(name.startswith("username-") for name in cookies)
    jar = "; ".join(f"{name}={morsel.value}" for name, morsel in cookies.items())
    cancel = route(("executions", "{id}", "cancel"), made["creating"].id)

    listed = await jp_fetch("amc-magic", "api", "executions", headers={**NO_TOKEN, "Cookie": jar})
    assert listed.code == 200  # reads need the login only
    for headers in ({"Cookie": jar.replace(f"_xsrf={cookies['_xsrf'].value}", "_xsrf=forged")}, {"Cookie": jar}):
        with pytest.raises(HTTPClientError) as refused:
            await jp_fetch(*cancel, method="POST", body=b"", headers={**NO_TOKEN, **headers})
        assert refused.value.code == 403
    assert (await jp_fetch("amc-magic", "api", "executions", made["creating"].id)).code == 200
    xsrf = {"Cookie": jar, "X-XSRFToken": cookies["_xsrf"].value}
    answered = await jp_fetch(*cancel, method="POST", body=b"", headers={**NO_TOKEN, **xsrf})
    assert as_json(answered)["status"] == "CANCELLED"


def test_no_route_of_the_extension_is_left_without_authentication(recwarn, jp_serverapp) -> None:
    """The extension template's ``check_auth``: unauthenticated routes raise a JupyterServerAuthWarning."""
    flagged = [str(w.message) for w in recwarn if "Extension endpoints without" in str(w.message)]
    assert not [text for text in flagged if "amc-magic" in text or "Dashboard" in text or "Handler registered" in text]
    assert jp_serverapp.extension_manager.extensions["amc_magic"].enabled


def test_the_package_enables_the_extension_on_install() -> None:
    config = json.loads((ROOT / "jupyter-config" / "jupyter_server_config.d" / "amc_magic.json").read_text())
    assert config == {"ServerApp": {"jpserver_extensions": {"amc_magic": True}}}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    shared = project["tool"]["hatch"]["build"]["targets"]["wheel"]["shared-data"]
    assert shared["jupyter-config/jupyter_server_config.d"] == "etc/jupyter/jupyter_server_config.d"
    assert any(dep.startswith("jupyter_server") for dep in project["project"]["dependencies"])


def test_importing_amc_magic_does_not_import_the_server() -> None:
    code = (
        "import sys, amc_magic\n"
        "points = amc_magic._jupyter_server_extension_points\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('jupyter_server', 'tornado') or m == 'amc_magic.server'))"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"
    points = __import__("amc_magic")._jupyter_server_extension_points()
    assert points[0]["module"] == "amc_magic.server.app" and points[0]["app"].name == "amc_magic"
