"""The Dash app: :func:`create_app` builds it, :func:`serve` runs it on a production WSGI server.

    python -m dashboard                 # http://127.0.0.1:8050/
    python -m dashboard --port 8060 --workers 4

:func:`serve` runs gunicorn with several worker processes (one per core by default, each with a
few threads), so a class's updates use every core; the app is built and warmed up once in the
master process (``preload_app``) and the workers inherit it, compiled kernels and solved
baselines included, so none of them starts cold. Where gunicorn cannot run (Windows) it falls
back to waitress in one process. Responses are gzip-compressed (flask-compress) when the
browser accepts it.

No work happens at import time; the model loads on the first page request (or in :func:`serve`
before the server starts, so the first visitor does not wait).

Server safety (SECURITY.md): loopback by default and a warning otherwise (:func:`host_warning`);
no dev-tools endpoint (``/_reload-hash`` answers 404); malformed component-suite paths answer
404; request bodies over :data:`MAX_BODY_BYTES` answer 413; every response carries
``X-Content-Type-Options``, ``Referrer-Policy`` and a Content-Security-Policy
(:func:`content_security_policy`); callbacks run under a per-request time limit and a cap on
concurrent updates (:class:`UpdateGate`), so one slow solve cannot hold up other visitors.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

from musclesim.errors import ServerConfigError  # defined in errors.py; importable from here too

ASSETS = Path(__file__).resolve().parent / "assets"
TITLE = "musclesim: muscle tone and posture"

#: Largest request body accepted (the largest dashboard request, a slider change, is about 16 kB).
MAX_BODY_BYTES = 1_000_000
#: Seconds a visitor waits for one callback before being told it took too long.
UPDATE_TIME_LIMIT_S = 5.0
#: Seconds an update waits for a free solve slot before being told the server is busy.
UPDATE_QUEUE_WAIT_S = 1.0
#: Worker threads kept free of callbacks, for pages, scripts and /healthz.
RESERVED_THREADS = 2
#: Simultaneous connections waitress accepts (a browser keeps up to 6 open; a class of 30 and
#: spare). Waitress's default, 100, would make the 17th student's browser wait.
CONNECTION_LIMIT = 500
#: Where the dashboard may be framed by default: nowhere.
FRAME_ANCESTORS = "'none'"
#: Worker processes ``musclesim serve --workers`` accepts.
MAX_WORKERS = 64
#: Threads per worker process (gunicorn) or of the one process (waitress); callbacks get all but
#: RESERVED_THREADS of them.
WORKER_THREADS = 8
#: gunicorn keep-alive (seconds; 0: close each connection after its answer). Off, so that every
#: request is accepted anew by whichever worker is free: with keep-alive (30 s) each browser
#: stayed on the worker that accepted its first connection, and in a 60-client load test the four
#: workers held 47, 9, 6 and 2 connections and did 42, 6, 2 and 0 s of the work (one process, one
#: GIL, queueing while the others idled); with it off they did 13, 13, 12 and 12 s. Reconnecting
#: costs well under a millisecond on a local network. (``reuse_port``, one socket per worker,
#: spreads connections by a hash of the address, blind to load: 19, 12, 11 and 10 s.)
KEEPALIVE_S = 0
#: gzip level of compressed responses (a slider change's answer: about 100 kB to 15 kB).
GZIP_LEVEL = 5
UPDATE_ROUTE = "/_dash-update-component"
RELOAD_ROUTE = "/_reload-hash"


# --------------------------------------------------------------------------- binding


def is_loopback(host: str) -> bool:
    """True for addresses only this computer can reach (127.0.0.0/8, ::1, ``localhost``)."""
    h = host.strip().strip("[]").lower()
    if h == "localhost":
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:  # a host name: it may resolve to any interface
        return False


def host_warning(host: str) -> str | None:
    """The warning :func:`serve` prints (to stderr) before listening on ``host``; None for loopback."""
    if is_loopback(host):
        return None
    where = "every network interface" if host.strip("[]") in ("0.0.0.0", "::", "") else host
    return (f"musclesim: warning: listening on {where}, not just this computer. Anyone who can reach it "
            "can use the dashboard: there is no login and no encryption. Use it on a trusted classroom "
            "network only, never on public Wi-Fi or forwarded to the internet; see SECURITY.md.")


# --------------------------------------------------------------------------- headers

_HOST_SOURCE = re.compile(r"^(?:https?://)?(?:\*\.)?(?:localhost|[a-z0-9-]+(?:\.[a-z0-9-]+)+)"
                          r"(?::(?:[0-9]{1,5}|\*))?/?$", re.IGNORECASE)
_KEYWORDS = {"self": "'self'", "'self'": "'self'", "none": "'none'", "'none'": "'none'",
             "http:": "http:", "https:": "https:"}


def frame_ancestors_value(value: str | None) -> str:
    """Check a ``frame-ancestors`` source list (``"https://school.example 'self'"``) and return it.

    None or empty gives ``'none'`` (no framing). Accepted: ``self``, ``none`` (with or without
    quotes), ``https:``/``http:``, and origins ``[scheme://][*.]host[:port]`` (a dotted name,
    an IPv4 address or ``localhost``). Raises :class:`ServerConfigError` for anything else (a
    ``;``, a ``,``, quotes, paths, other schemes), so the option cannot add other directives.
    """
    if value is None or not str(value).strip():
        return FRAME_ANCESTORS
    sources = []
    for token in str(value).split():
        source = _KEYWORDS.get(token.lower()) or (token if _HOST_SOURCE.match(token) else None)
        if source is None:
            raise ServerConfigError(
                f"--frame-ancestors: {token!r} is not an origin; give origins such as "
                "https://school.example or self, separated by spaces")
        sources.append(source)
    if "'none'" in sources and len(sources) > 1:
        raise ServerConfigError("--frame-ancestors: 'none' cannot be combined with other sources")
    return " ".join(sources)


def content_security_policy(app, frame_ancestors: str | None = None) -> str:
    """The Content-Security-Policy of every response (SECURITY.md explains each source).

    The tightest policy the app passes in Chromium (page load, sliders, presets, the graph view,
    presentation mode, CSV and PNG downloads; no violation reported). Scripts: this server's
    files and the hash of Dash's inline renderer bootstrap (:meth:`dash.Dash.csp_hashes`), no
    ``'unsafe-inline'``, no ``'unsafe-eval'``. Styles need ``'unsafe-inline'``: dash-renderer,
    dcc and plotly.js insert ``<style>`` elements and style attributes. Images: ``blob:`` for
    plotly's "Download plot as a PNG".
    """
    directives = {
        "default-src": "'self'",
        "script-src": " ".join(["'self'", *app.csp_hashes()]),
        "style-src": "'self' 'unsafe-inline'",
        "img-src": "'self' blob:",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'none'",
        "frame-ancestors": frame_ancestors_value(frame_ancestors),
    }
    return "; ".join(f"{k} {v}" for k, v in directives.items())


def security_headers(app, frame_ancestors: str | None = None) -> dict[str, str]:
    """The headers added to every response."""
    fa = frame_ancestors_value(frame_ancestors)
    headers = {
        "Content-Security-Policy": content_security_policy(app, fa),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if fa == FRAME_ANCESTORS:
        headers["X-Frame-Options"] = "DENY"  # for browsers older than CSP frame-ancestors
    return headers


# --------------------------------------------------------------------------- time limit


class UpdateGate:
    """Runs Dash callbacks with a cap on concurrent updates and a per-request time limit.

    At most ``slots`` callbacks run at once, on their own threads; the request thread waits for
    its callback at most ``time_limit`` seconds, and for a free slot at most ``queue_wait``
    seconds. Past either, the visitor gets an answer at once (the solver status says the change
    was not computed, try again) and the request thread is free for someone else. A callback
    that overruns keeps its slot until it ends (Python threads cannot be stopped), so CPU use
    stays capped; the solver's own iteration limits bound how long that is, and its result is
    memoised, so trying again is immediate. With ``slots`` = waitress threads - 2, pages,
    scripts and ``/healthz`` always find a free thread within ``queue_wait``.
    """

    def __init__(self, slots: int, time_limit: float = UPDATE_TIME_LIMIT_S,
                 queue_wait: float = UPDATE_QUEUE_WAIT_S):
        self.slots = max(1, int(slots))
        self.time_limit = float(time_limit)
        self.queue_wait = float(queue_wait)
        self._free = threading.BoundedSemaphore(self.slots)
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self.refused = 0  # counters, for tests and the load test
        self.timed_out = 0

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=self.slots, thread_name_prefix="musclesim-update")
            return self._pool

    def wrap(self, view, known_outputs=None):
        """``view`` (Dash's callback route) behind the gate. With ``known_outputs`` (the app's
        ``callback_map``), a body that is not a callback request of this app answers 400
        instead of failing inside Dash with a 500."""
        import flask

        def gated(*args, **kwargs):
            flask.request.get_data(cache=True)  # read (and size-check) the body on this thread
            if known_outputs is not None and not _is_callback_request(flask.request.get_json(silent=True),
                                                                       known_outputs):
                flask.abort(400)
            if not self._free.acquire(timeout=self.queue_wait):
                self.refused += 1
                return _not_computed("busy", "The server is busy with many updates at once: this change "
                                     "was not computed. Move the control again in a moment.")
            try:
                future = self._executor().submit(flask.copy_current_request_context(view), *args, **kwargs)
            except BaseException:
                self._free.release()
                raise
            future.add_done_callback(lambda _f: self._free.release())
            try:
                return future.result(timeout=self.time_limit)
            except FutureTimeout:
                self.timed_out += 1
                return _not_computed("timeout", f"This change took longer than {self.time_limit:g} s to "
                                     "compute and was not shown. Move the control again in a moment.")

        gated.__name__ = getattr(view, "__name__", "gated")
        return gated


def _is_callback_request(body, known_outputs) -> bool:
    """The envelope of a Dash callback request: a known ``output``, and ``inputs``/``state`` lists
    of ``{"id", "property"}`` entries (or lists of them, for pattern-matching ids)."""
    if not isinstance(body, dict) or not isinstance(body.get("output"), str) or body["output"] not in known_outputs:
        return False

    def entries_ok(items) -> bool:
        if not isinstance(items, list):
            return False
        flat = [e for item in items for e in (item if isinstance(item, list) else [item])]
        return all(isinstance(e, dict) and "id" in e and isinstance(e.get("property"), str) for e in flat)

    return (entries_ok(body.get("inputs")) and entries_ok(body.get("state", []))
            and isinstance(body.get("outputs"), (list, dict)) and isinstance(body.get("changedPropIds", []), list))


def _not_computed(reason: str, message: str):
    """A valid Dash answer that changes only the solver status (or nothing, 204), marked with
    an ``X-Musclesim-Update`` header saying why."""
    import flask

    from . import ids

    try:
        body = json.loads(flask.request.get_data(cache=True) or b"{}")
        outputs = body.get("outputs", [])
        outputs = outputs if isinstance(outputs, list) else [outputs]
        has_status = any(isinstance(o, dict) and o.get("id") == ids.STATUS and o.get("property") == "children"
                         for o in outputs)
    except (ValueError, AttributeError):
        has_status = False
    if has_status:
        resp = flask.jsonify({"multi": True, "response": {ids.STATUS: {"children": message}}})
    else:
        resp = flask.Response(status=204)
    resp.headers["X-Musclesim-Update"] = reason
    resp.headers["Cache-Control"] = "no-store"
    return resp


# --------------------------------------------------------------------------- the app


def create_app(*, frame_ancestors: str | None = None, update_slots: int = 8 - RESERVED_THREADS,
               time_limit: float = UPDATE_TIME_LIMIT_S, queue_wait: float = UPDATE_QUEUE_WAIT_S):
    """A new Dash app with the dashboard's layout and callbacks (dev tools off) and the server
    safety settings of SECURITY.md.

    ``frame_ancestors``: who may show the dashboard in a frame (CSP sources, e.g.
    ``"https://school.example"``); default nobody. ``update_slots``, ``time_limit``,
    ``queue_wait``: see :class:`UpdateGate`. Raises :class:`ServerConfigError` for a bad
    ``frame_ancestors``.
    """
    import flask
    from dash import Dash
    from dash.exceptions import DependencyException

    from . import callbacks, layout

    fa = frame_ancestors_value(frame_ancestors)  # check before building anything
    app = Dash(__name__, title=TITLE, assets_folder=str(ASSETS), serve_locally=True,
               suppress_callback_exceptions=False, update_title=None, compress=False)
    app.layout = layout.build_layout  # a function: rebuilt per page load, never shared state
    callbacks.register(app)
    server = app.server
    server.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES

    @server.route("/teaching.md")
    def _teaching():  # the teaching guide, as text (also rendered inside the app's help)
        path = layout.TEACHING
        if not path.is_file():
            return flask.Response("docs/teaching.md is not installed with this copy of musclesim.", 404,
                                  mimetype="text/plain")
        return flask.Response(path.read_text(encoding="utf-8"), mimetype="text/markdown; charset=utf-8")

    @server.route("/healthz")
    def _health():
        return flask.Response("ok", mimetype="text/plain")

    # no dev-tools endpoint: Dash registers its hot-reload poll even with dev tools off
    server.view_functions[RELOAD_ROUTE] = lambda: flask.abort(404)

    # a script path that Dash's packages do not register is "not found", not a server error
    @server.errorhandler(DependencyException)
    def _unknown_script(_err):
        return flask.Response("not found", 404, mimetype="text/plain")

    @server.before_request
    def _limit_body():
        length = flask.request.content_length
        if length is not None and length > MAX_BODY_BYTES:
            flask.abort(413)

    _compress(server)
    gate = UpdateGate(update_slots, time_limit, queue_wait)
    server.view_functions[UPDATE_ROUTE] = gate.wrap(server.view_functions[UPDATE_ROUTE], app.callback_map)
    server.extensions["musclesim_update_gate"] = gate

    headers: dict[str, str] = {}

    @server.after_request
    def _secure(resp):
        if not headers:  # once, after every callback (and its inline scripts) is registered
            headers.update(security_headers(app, fa))
        for k, v in headers.items():
            resp.headers.setdefault(k, v)
        return resp

    return app


def _compress(server) -> None:
    """gzip the responses (pages, scripts, callback answers) when flask-compress is installed."""
    try:
        from flask_compress import Compress
    except ImportError:  # pragma: no cover - the serve extra installs it
        return
    server.config.update(COMPRESS_ALGORITHM=["gzip"], COMPRESS_LEVEL=GZIP_LEVEL, COMPRESS_MIN_SIZE=1024,
                         COMPRESS_MIMETYPES=["text/html", "text/css", "text/plain", "text/markdown",
                                             "application/json", "application/javascript", "text/javascript"])
    Compress(server)


def default_workers() -> int:
    """Worker processes by default: two per core (at least 2, so one slow update never holds
    up the rest), at most :data:`MAX_WORKERS`. An update is Python-bound (the GIL lets one thread
    of a process run at a time) with short waits between its parts, so two processes per core keep
    the cores busy: on 2 cores with 60 clients, 4 workers gave p95 337 ms against 677 ms with 2
    (benchmarks/load_test.py, 8 threads each)."""
    return min(max(2 * (os.cpu_count() or 1), 2), MAX_WORKERS)


def check_workers(workers: int) -> int:
    """``workers`` if it is in 1..:data:`MAX_WORKERS`; :class:`ServerConfigError` otherwise."""
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= MAX_WORKERS:
        raise ServerConfigError(f"--workers must be a whole number from 1 to {MAX_WORKERS} (got {workers!r})")
    return workers


def warm_up() -> None:
    """Load the model, solve the baselines and the presets (and their catalogue claims) once, so
    the first page is fast."""
    from . import callbacks, compute
    from .presets import available_presets

    for p in compute.positions():
        compute.baseline(p)
    compute.graph()
    compute.graph_positions()
    for preset in available_presets(compute.positions()):
        callbacks.preset_verdict(preset.id)
        for claim_id in preset.claims:
            compute.claim_verdict(claim_id)



def make_server(app=None, host: str = "127.0.0.1", port: int = 8050, threads: int = 8):
    """The waitress server :func:`serve` runs (not started): ``threads`` workers, a body limit
    and room for a class's connections. ``port=0`` picks a free port (``.effective_port``)."""
    from waitress.server import create_server

    app = app or create_app(update_slots=max(1, threads - RESERVED_THREADS))
    return create_server(app.server, host=host, port=port, threads=threads, ident="musclesim",
                         max_request_body_size=2 * MAX_BODY_BYTES,  # larger bodies: refused unread
                         connection_limit=CONNECTION_LIMIT, asyncore_use_poll=True, channel_timeout=60)


def gunicorn_options(host: str = "127.0.0.1", port: int = 8050, workers: int | None = None,
                     threads: int = WORKER_THREADS) -> dict:
    """The gunicorn settings :func:`serve` uses (see SECURITY.md): ``workers`` processes of
    ``threads`` threads (gthread), the app preloaded in the master, no access log, no control
    socket, limits on request lines and headers, no keep-alive (:data:`KEEPALIVE_S`: each request
    goes to a free worker)."""
    h = host.strip()
    bind = f"[{h.strip('[]')}]:{port}" if ":" in h.strip("[]") else f"{h}:{port}"
    return {
        "bind": [bind], "workers": check_workers(default_workers() if workers is None else workers),
        "worker_class": "gthread", "threads": max(1, int(threads)), "preload_app": True,
        "worker_connections": CONNECTION_LIMIT, "keepalive": KEEPALIVE_S, "timeout": 60, "graceful_timeout": 5,
        "limit_request_line": 8190, "limit_request_fields": 100, "limit_request_field_size": 8190,
        "accesslog": None, "errorlog": "-", "loglevel": "warning", "proc_name": "musclesim",
        "control_socket_disable": True,
    }


def make_gunicorn(app, options: dict, on_ready=None):
    """A gunicorn application serving ``app.server`` with ``options`` (not started: ``.run()``).
    ``on_ready(port)`` is called once the master listens (``port`` as bound: port 0 picks one)."""
    from gunicorn.app.base import BaseApplication

    class _App(BaseApplication):
        def load_config(self):
            for k, v in options.items():
                self.cfg.set(k, v)
            if on_ready is not None:
                self.cfg.set("when_ready", lambda arbiter: on_ready(arbiter.LISTENERS[0].sock.getsockname()[1]))

        def load(self):
            return app.server

    return _App()


def serve(host: str = "127.0.0.1", port: int = 8050, threads: int = WORKER_THREADS,
          frame_ancestors: str | None = None, workers: int | None = None) -> None:
    """Serve the dashboard on a production WSGI server (Dash debug and dev tools stay off) and
    print the URL: gunicorn with ``workers`` processes (default :func:`default_workers`) of
    ``threads`` threads each (default :data:`WORKER_THREADS`, 8); waitress with ``threads`` in
    one process where gunicorn is not available (Windows). Binding to anything but
    loopback prints a warning to stderr (:func:`host_warning`). Raises
    :class:`ServerConfigError` for a bad ``frame_ancestors`` or ``workers``."""
    workers = check_workers(default_workers() if workers is None else workers)
    try:
        import gunicorn  # noqa: F401
        use_gunicorn = os.name == "posix"
    except ImportError:
        use_gunicorn = False
    if not use_gunicorn:
        try:
            import waitress  # noqa: F401
        except ImportError as exc:  # pragma: no cover
            raise SystemExit("the dashboard needs gunicorn or waitress: pip install 'musclesim[serve]'") from exc
    threads = threads or WORKER_THREADS
    app = create_app(frame_ancestors=frame_ancestors, update_slots=max(1, threads - RESERVED_THREADS))
    warning = host_warning(host)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    warm_up()  # in the master: the workers are forked warm
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0", "::") else host

    def ready(bound_port: int, how: str) -> None:
        print(f"musclesim dashboard: http://{shown}:{bound_port}/  ({how}; Ctrl+C stops it)", flush=True)

    if use_gunicorn:
        opts = gunicorn_options(host, port, workers, threads)
        make_gunicorn(app, opts, lambda p: ready(p, f"gunicorn, {opts['workers']} workers × {opts['threads']} "
                                                    "threads")).run()
        return
    server = make_server(app, host=host, port=port, threads=threads)
    ready(server.effective_port, f"waitress, {threads} threads")
    try:
        server.run()
    finally:
        server.close()
