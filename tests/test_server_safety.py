"""Server safety (issue 8, item 5; SECURITY.md): binding, no dev-tools endpoint, no file paths
from requests, body size limit, security headers, query validation, and one slow update not
holding up everyone else.

Mostly through Flask's test client (fast); the concurrency test runs the real waitress setup of
``musclesim serve`` on 127.0.0.1 with a free port, for a few seconds.
"""

from __future__ import annotations

import base64
import hashlib
import re
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

pytest.importorskip("dash")

from dashboard import app as dash_app
from dashboard import ids

ROOT = Path(__file__).resolve().parents[1]


def _load_test_module():
    """benchmarks/load_test.py (its simulated browser tab builds real callback requests)."""
    from _bench import load_benchmark

    return load_benchmark("load_test")


LT = _load_test_module()


@pytest.fixture(scope="module")
def app():
    return dash_app.create_app()


@pytest.fixture(scope="module")
def client(app):
    return app.server.test_client()


class _TestClientSession:
    """requests.Session's surface, for the load test's simulated browser tab, on Flask's test client."""

    def __init__(self, client):
        self.client = client

    class Response:
        def __init__(self, r):
            self.status_code, self.headers, self._r = r.status_code, r.headers, r

        def json(self):
            return self._r.get_json()

    def request(self, method, url, json=None, timeout=None):
        return self.Response(self.client.open(url.split("http://testserver", 1)[1], method=method, json=json))


@pytest.fixture(scope="module")
def tab(client, monkeypatch_module):
    """A simulated browser tab (page loaded, initial callbacks run) on the test client."""
    import requests

    monkeypatch_module.setattr(requests, "Session", lambda: _TestClientSession(client))
    stats = LT.Stats()
    t = LT.Tab("http://testserver", stats, __import__("random").Random(0))
    assert not stats.errors, stats.errors
    return t


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


# --------------------------------------------------------------------------- binding


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"])
def test_loopback_binds_without_warning(host):
    assert dash_app.is_loopback(host)
    assert dash_app.host_warning(host) is None


@pytest.mark.parametrize("host, shown", [("0.0.0.0", "every network interface"), ("::", "every network interface"),
                                         ("192.168.1.20", "192.168.1.20"), ("myhost.school.example", "myhost")])
def test_binding_elsewhere_warns_and_points_to_security_md(host, shown):
    msg = dash_app.host_warning(host)
    assert msg and msg.startswith("musclesim: warning:")
    assert shown in msg and "no login" in msg and "SECURITY.md" in msg
    assert "\n" not in msg


class _FakeServer:
    effective_port = 8050

    def __init__(self, **kw):
        self.kw = kw

    def run(self):
        pass

    def close(self):
        pass


def test_serve_prints_the_warning_to_stderr_only_off_loopback(monkeypatch, capsys):
    made = []

    class _FakeGunicorn:
        def __init__(self, opts, on_ready):
            self.opts, self.on_ready = opts, on_ready

        def run(self):
            self.on_ready(8050)

    monkeypatch.setattr(dash_app, "warm_up", lambda: None)
    monkeypatch.setattr(dash_app, "make_gunicorn", lambda app, opts, on_ready: made.append(opts)
                        or _FakeGunicorn(opts, on_ready))
    dash_app.serve("0.0.0.0", 8050)
    out, err = capsys.readouterr()
    assert "every network interface" in err and "SECURITY.md" in err
    assert "http://localhost:8050/" in out and "warning" not in out and "gunicorn" in out
    dash_app.serve("127.0.0.1", 8050, workers=3)
    out, err = capsys.readouterr()
    assert err == "" and "http://localhost:8050/" in out and "3 workers" in out
    assert made[0]["bind"] == ["0.0.0.0:8050"] and made[1]["bind"] == ["127.0.0.1:8050"]
    assert made[0]["workers"] == dash_app.default_workers() and made[1]["workers"] == 3


def test_the_gunicorn_setup():
    import os

    opts = dash_app.gunicorn_options()
    assert opts["bind"] == ["127.0.0.1:8050"]  # this computer only, unless told otherwise
    assert opts["workers"] == max(2 * (os.cpu_count() or 1), 2) and opts["worker_class"] == "gthread"
    assert opts["preload_app"] is True  # built and warmed once in the master; workers fork warm
    assert opts["keepalive"] == 0  # every request to a free worker, not the one a browser first reached
    assert opts["control_socket_disable"] is True and opts["accesslog"] is None
    assert opts["worker_connections"] >= 30 * 6 and opts["limit_request_line"] <= 8190
    assert dash_app.gunicorn_options("::1", 8060)["bind"] == ["[::1]:8060"]
    for bad in (0, -1, dash_app.MAX_WORKERS + 1, 2.5, "3", True):
        with pytest.raises(dash_app.ServerConfigError, match=f"1 to {dash_app.MAX_WORKERS}"):
            dash_app.check_workers(bad)


@pytest.mark.parametrize("value", ["0", "-2", "65", "two"])
def test_cli_serve_refuses_bad_workers_in_one_line(value):
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "musclesim.cli", "serve", "--workers", value], capture_output=True,
                       text=True, timeout=60, cwd=str(ROOT))
    assert r.returncode == 2 and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "--workers" in lines[0] and f"1 to {dash_app.MAX_WORKERS}" in lines[0], r.stderr
    assert "Traceback" not in r.stderr


def test_musclesim_serve_runs_gunicorn_workers_with_the_headers():
    """The real thing: ``musclesim serve --port 0 --workers 2`` on loopback; two worker
    processes answer with the security headers and gzip, then it stops on SIGTERM."""
    import os
    import re as _re
    import signal
    import subprocess
    import sys

    import requests

    pytest.importorskip("gunicorn")
    proc = subprocess.Popen([sys.executable, "-m", "musclesim.cli", "serve", "--port", "0", "--workers", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(ROOT))
    try:
        line = proc.stdout.readline()
        m = _re.search(r"http://localhost:(\d+)/", line)
        assert m and "gunicorn, 2 workers" in line, line
        base = f"http://127.0.0.1:{m.group(1)}"
        page = requests.get(base + "/", headers={"Accept-Encoding": "gzip"}, timeout=20)
        assert page.status_code == 200 and page.headers.get("Content-Encoding") == "gzip"
        for h in ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options"):
            assert h in page.headers, h
        assert requests.get(base + "/_reload-hash", timeout=10).status_code == 404
        def kids():
            return [int(p) for t in os.listdir(f"/proc/{proc.pid}/task")
                    for p in open(f"/proc/{proc.pid}/task/{t}/children").read().split()]

        t0 = time.perf_counter()
        while len(kids()) < 2 and time.perf_counter() - t0 < 15:  # the workers fork after the master binds
            time.sleep(0.1)
        assert len(kids()) == 2, kids()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()


def test_the_waitress_setup():
    app = dash_app.create_app()
    server = dash_app.make_server(app, port=0, threads=8)
    try:
        adj = server.adj
        assert adj.threads == 8 and adj.host == "127.0.0.1"
        assert adj.max_request_body_size == 2 * dash_app.MAX_BODY_BYTES
        assert adj.connection_limit >= 30 * 6  # a class of 30, six connections per browser
        assert app.server.config["MAX_CONTENT_LENGTH"] == dash_app.MAX_BODY_BYTES
    finally:
        server.close()


# --------------------------------------------------------------------------- no dev tools, no file paths


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_no_hot_reload_endpoint(client, method):
    r = client.open("/_reload-hash", method=method)
    assert r.status_code == 404
    assert b"reloadHash" not in r.data


def test_debug_and_dev_tools_are_off(app, client):
    assert not app.server.debug
    dev = app._dev_tools  # what the page's config tells dash-renderer
    assert not dev.ui and not dev.hot_reload and not dev.serve_dev_bundles and not dev.props_check
    config = client.get("/").get_data(as_text=True)
    assert '"ui":false' in config and "hot_reload" not in config


#: Every route taking a path from the URL. A new one fails here until it is reviewed (and
#: SECURITY.md says what it serves).
PATH_ROUTES = {"/static/<path:filename>", "/assets/<path:filename>",
               "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>", "/<path:path>"}


def test_routes_taking_a_path_are_the_reviewed_ones(app):
    with_path = {r.rule for r in app.server.url_map.iter_rules() if "<path:" in r.rule}
    assert with_path == PATH_ROUTES


TRAVERSALS = [
    "/_dash-component-suites/dash/../../../etc/passwd",
    "/_dash-component-suites/dash/..%2F..%2F..%2Fetc%2Fpasswd",
    "/_dash-component-suites/dash/%2e%2e/%2e%2e/pyproject.toml",
    "/_dash-component-suites/os/path.py",
    "/_dash-component-suites/musclesim/__init__.py",
    "/_dash-component-suites/dash/dcc/nonexistent.js",
    "/_dash-component-suites/dash/dash.py",
    "/assets/../app.py",
    "/assets/..%2Fapp.py",
    "/assets/%2e%2e/%2e%2e/pyproject.toml",
    "/static/../../pyproject.toml",
    "/static/%2e%2e/pyproject.toml",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_paths_from_requests_never_reach_files(client, path):
    r = client.get(path)
    assert r.status_code == 404, (path, r.status_code)
    assert b"root:" not in r.data and b"[build-system]" not in r.data and b"import " not in r.data


@pytest.mark.parametrize("path", ["/etc/passwd", "/../../pyproject.toml", "/models/adult_standing/model.toml",
                                  "/%2e%2e/%2e%2e/etc/passwd", "/teaching.md/../../pyproject.toml",
                                  "/assets//etc/passwd"])
def test_any_other_path_is_the_page_not_a_file(client, path):
    r = client.get(path)
    assert r.status_code in (200, 404)
    assert b"root:" not in r.data and b"[build-system]" not in r.data and b"[[muscles]]" not in r.data
    if r.status_code == 200:
        assert r.data.lstrip().lower().startswith(b"<!doctype html>")


@pytest.mark.parametrize("query", ["?file=/etc/passwd", "?model=../../etc/passwd", "?path=pyproject.toml"])
def test_query_never_names_a_file(client, query):
    for path in ("/", "/teaching.md", "/_favicon.ico", "/_dash-layout"):
        r = client.get(path + query)
        assert b"root:" not in r.data and b"[build-system]" not in r.data


# --------------------------------------------------------------------------- body size


def test_over_size_body_is_refused(client):
    r = client.post("/_dash-update-component", data=b"x" * (dash_app.MAX_BODY_BYTES + 1),
                    content_type="application/json")
    assert r.status_code == 413
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_real_updates_are_far_under_the_limit(tab):
    import json

    largest = max(len(json.dumps(tab.body(d, set()))) for d in tab.deps)
    assert largest < dash_app.MAX_BODY_BYTES / 20, largest


@pytest.mark.parametrize("body", [b"not json", b"{}", b"[]", b'{"output": "nosuch.prop", "inputs": []}',
                                  b'{"output": "compare-table.children", "outputs": {}, "inputs": "x"}',
                                  b'{"output": "compare-table.children", "outputs": {}, "inputs": [1, 2]}'])
def test_malformed_callback_requests_are_400_not_500(client, body):
    r = client.post("/_dash-update-component", data=body, content_type="application/json")
    assert r.status_code == 400


# --------------------------------------------------------------------------- headers


@pytest.mark.parametrize("path, status", [("/", 200), ("/_dash-layout", 200), ("/_dash-dependencies", 200),
                                          ("/healthz", 200), ("/teaching.md", 200), ("/assets/dashboard.css", 200),
                                          ("/_favicon.ico", 200), ("/_reload-hash", 404),
                                          ("/_dash-component-suites/dash/../../x", 404), ("/anything", 200)])
def test_security_headers_on_every_response(client, path, status):
    r = client.get(path)
    assert r.status_code == status
    h = r.headers
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["Referrer-Policy"] == "no-referrer"
    assert h["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in h["Content-Security-Policy"]


def test_headers_on_callback_answers(tab, client):
    r = client.post("/_dash-update-component", json=tab.body(tab.dep("compare-table.children"), set()))
    assert r.status_code == 200
    assert r.headers["X-Content-Type-Options"] == "nosniff" and "Content-Security-Policy" in r.headers


def _directives(csp: str) -> dict[str, list[str]]:
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in csp.split(";")) if d}


def test_csp_allows_no_inline_script_but_dashs_own(client):
    r = client.get("/")
    csp = _directives(r.headers["Content-Security-Policy"])
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'none'"]
    scripts = csp["script-src"]
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts and "*" not in scripts
    assert scripts[0] == "'self'"
    # every inline script the page runs is allowed by its hash, and nothing else is
    html = re.sub(r"<!--.*?-->", "", r.get_data(as_text=True), flags=re.DOTALL)  # Dash's IE-only note is a comment
    inline = [m.group(2) for m in re.finditer(r"<script(?![^>]*\bsrc=)([^>]*)>(.*?)</script>", html, re.DOTALL)
              if "application/json" not in m.group(1)]
    assert inline, "expected Dash's inline renderer bootstrap"
    hashes = {"'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'" for s in inline}
    assert hashes <= set(scripts[1:]), "an inline script has no hash in the CSP"
    assert all(s.startswith("'sha256-") for s in scripts[1:])
    # styles and images: exactly what the browser check needed (SECURITY.md explains each)
    assert csp["style-src"] == ["'self'", "'unsafe-inline'"]
    assert csp["img-src"] == ["'self'", "blob:"]


def test_frame_ancestors_option():
    app = dash_app.create_app(frame_ancestors="https://school.example self")
    r = app.server.test_client().get("/")
    assert "frame-ancestors https://school.example 'self'" in r.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in r.headers  # it cannot express an allow-list


@pytest.mark.parametrize("value", ["x; script-src *", "https://a.example, https://b.example", "'none' https://a.example",
                                   "javascript:alert(1)", "'unsafe-inline'", "https://a.example/path", "data:",
                                   "X-Evil: 1"])
def test_bad_frame_ancestors_are_refused(value):
    with pytest.raises(dash_app.ServerConfigError, match="frame-ancestors"):
        dash_app.create_app(frame_ancestors=value)


def test_cli_serve_passes_frame_ancestors_and_reports_bad_ones(monkeypatch, capsys):
    from musclesim.cli import main

    seen = {}
    monkeypatch.setattr(dash_app, "serve", lambda **kw: seen.update(kw))
    assert main(["serve", "--frame-ancestors", "https://school.example"]) == 0
    assert seen == {"host": "127.0.0.1", "port": 8050, "frame_ancestors": "https://school.example",
                    "workers": None, "threads": None}
    assert main(["serve", "--workers", "3", "--threads", "4"]) == 0
    assert seen["workers"] == 3 and seen["threads"] == 4
    monkeypatch.undo()
    assert main(["serve", "--frame-ancestors", "x; script-src *"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("musclesim: error: --frame-ancestors") and len(err.strip().splitlines()) == 1


# --------------------------------------------------------------------------- query state


GARBAGE = ["?psoas_major=7&nosuch=1&%%%=&&=", "?%C0%AF%%%garbage&position=moon", "?psoas_major_left=banana",
           "?x=%00%ff&tight.hamstrings=-90&measure=<script>alert(1)</script>", "?" + "a=1&" * 2000]


@pytest.mark.parametrize("query", GARBAGE, ids=range(len(GARBAGE)))
def test_garbage_query_loads_the_page(client, query):
    r = client.get("/" + query)
    assert r.status_code == 200
    assert b"<script>alert(1)</script>" not in r.data


@pytest.mark.parametrize("query, message", [("?psoas_major=7", "[0, 1]"), ("?position=moon", "moon"),
                                            ("?%C0%AF%%%garbage&nosuch_muscle=0.5", "nosuch_muscle")])
def test_garbage_query_is_checked_by_the_server_callback(tab, client, query, message):
    """The page's URL reaches the state callback, which applies the API's rules: a message and
    the baseline, never a server error."""
    import json

    tab.props["url"]["search"] = query
    dep = tab.dep(f"{ids.STATE}.data")
    r = client.post("/_dash-update-component", json=tab.body(dep, {"url.search"}))
    assert r.status_code == 200
    resp = r.get_json()["response"]
    assert message in json.dumps(resp[ids.BANNER])
    assert resp[ids.STATE]["data"]["tone"] == {}


# --------------------------------------------------------------------------- time limit


def _slow_update(monkeypatch, release: threading.Event, seconds: float = 20.0):
    from dashboard import callbacks

    fast = callbacks.update_views

    def slow(state, **kw):
        release.wait(seconds)
        return fast(state, **kw)

    monkeypatch.setattr(callbacks, "update_views", slow)


def test_an_update_over_the_time_limit_is_answered_at_once(tab, monkeypatch):
    app = dash_app.create_app(time_limit=0.3)
    release = threading.Event()
    _slow_update(monkeypatch, release)
    body = tab.body(tab.dep(f"{ids.STATUS}.children"), {f"{ids.STATE}.data"})
    t0 = time.perf_counter()
    r = app.server.test_client().post("/_dash-update-component", json=body)
    took = time.perf_counter() - t0
    release.set()
    assert r.status_code == 200 and took < 3
    assert r.headers["X-Musclesim-Update"] == "timeout"
    assert "took longer than 0.3 s" in r.get_json()["response"][ids.STATUS]["children"]
    assert app.server.extensions["musclesim_update_gate"].timed_out == 1


def test_a_normal_update_is_not_marked(tab, client):
    r = client.post("/_dash-update-component", json=tab.body(tab.dep(f"{ids.STATUS}.children"),
                                                              {f"{ids.STATE}.data"}))
    assert r.status_code == 200 and "X-Musclesim-Update" not in r.headers
    assert len(r.get_json()["response"]) > 5


@contextmanager
def _waitress(app, threads=8):
    import logging

    server = dash_app.make_server(app, port=0, threads=threads)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        logging.getLogger("waitress").setLevel(logging.ERROR)
        while server._map:
            for channel in list(server._map.values()):
                channel.handle_close()
        server.task_dispatcher.shutdown(timeout=5)
        thread.join(5)


def test_eight_slow_updates_do_not_block_a_ninth_visitor(tab, monkeypatch):
    """8 updates that would take 20 s each arrive at once on the 8-thread server; a page load and
    /healthz sent right after are answered within the queue wait (0.5 s here), and every slow
    update gets an answer (busy, or too slow at the 2 s limit) instead of hanging."""
    import requests

    app = dash_app.create_app(update_slots=6, time_limit=2.0, queue_wait=0.5)
    body = tab.body(tab.dep(f"{ids.STATUS}.children"), {f"{ids.STATE}.data"})
    release = threading.Event()
    _slow_update(monkeypatch, release)
    answers: list = []
    with _waitress(app, threads=8) as base:
        requests.get(base + "/healthz", timeout=5)  # warm the connection path

        def post():
            t0 = time.perf_counter()
            r = requests.post(base + "/_dash-update-component", json=body, timeout=15)
            answers.append((r, time.perf_counter() - t0))

        slow = [threading.Thread(target=post) for _ in range(8)]
        try:
            for t in slow:
                t.start()
            time.sleep(0.2)  # the 8 are in
            t0 = time.perf_counter()
            page = requests.get(base + "/", timeout=10)
            health = requests.get(base + "/healthz", timeout=10)
            fast_s = time.perf_counter() - t0
            for t in slow:
                t.join(15)
        finally:
            release.set()
    assert page.status_code == 200 and health.text == "ok"
    assert fast_s < 2.0, f"the page waited {fast_s:.1f} s behind slow updates"
    assert len(answers) == 8
    reasons = sorted(r.headers.get("X-Musclesim-Update", "") for r, _ in answers)
    assert reasons == ["busy"] * 2 + ["timeout"] * 6, reasons
    assert all(r.status_code == 200 and took < 5 for r, took in answers)
