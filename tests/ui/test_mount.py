"""mount_console over HTTP (no browser): the routes, the page, and that every asset it loads ships."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from modelserve.settings import Settings
from modelserve.ui import STATIC_DIR, mount_console


def client(tmp_path) -> TestClient:
    app = FastAPI()
    mount_console(app, Settings(data_dir=tmp_path, public_url="https://models.example.org/"))
    return TestClient(app)


def test_root_redirects_to_the_console(tmp_path) -> None:
    answer = client(tmp_path).get("/", follow_redirects=False)
    assert answer.status_code in (302, 307)
    assert answer.headers["location"] == "/console"


def test_console_and_run_deep_links_serve_the_page_with_the_server_url(tmp_path) -> None:
    http = client(tmp_path)
    for path in ("/console", "/console/", "/console/runs/0123abcd"):
        answer = http.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["content-type"].startswith("text/html")
        assert 'content="https://models.example.org"' in answer.text
        assert '<script type="module" src="/console/static/app.js">' in answer.text


def test_scripts_are_served_as_javascript_and_every_import_exists(tmp_path) -> None:
    http = client(tmp_path)
    scripts = sorted(p.name for p in STATIC_DIR.glob("*.js"))
    assert "app.js" in scripts
    for name in scripts:
        answer = http.get(f"/console/static/{name}")
        assert answer.status_code == 200
        # Browsers refuse to run an ES module served with a non-JavaScript MIME type.
        assert "javascript" in answer.headers["content-type"], name
        for target in re.findall(r'from "\./([\w.]+)"', answer.text):
            assert (STATIC_DIR / target).is_file(), f"{name} imports missing {target}"
    assert http.get("/console/static/style.css").headers["content-type"].startswith("text/css")
    assert http.get("/console/static/nope.js").status_code == 404


def test_fake_backend_serves_the_console_over_a_real_socket(console) -> None:
    answer = httpx.get(f"{console.url}/console/runs/x", timeout=5)
    assert answer.status_code == 200
    assert f'content="{console.url}"' in answer.text
