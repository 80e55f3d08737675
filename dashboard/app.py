"""The Dash app: :func:`create_app` builds it, :func:`serve` runs it on a production WSGI server.

    python -m dashboard                 # http://127.0.0.1:8050/
    python -m dashboard --port 8060

No work happens at import time; the model loads on the first page request (or in :func:`serve`
before the server starts, so the first visitor does not wait).
"""

from __future__ import annotations

from pathlib import Path

ASSETS = Path(__file__).resolve().parent / "assets"
TITLE = "musclesim: muscle tone and posture"


def create_app():
    """A new Dash app with the dashboard's layout and callbacks (dev tools off)."""
    import flask
    from dash import Dash

    from . import callbacks, layout

    app = Dash(__name__, title=TITLE, assets_folder=str(ASSETS), serve_locally=True,
               suppress_callback_exceptions=False, update_title=None)
    app.layout = layout.build_layout  # a function: rebuilt per page load, never shared state
    callbacks.register(app)

    @app.server.route("/teaching.md")
    def _teaching():  # the teaching guide, as text (also rendered inside the app's help)
        path = layout.TEACHING
        if not path.is_file():
            return flask.Response("docs/teaching.md is not installed with this copy of musclesim.", 404,
                                  mimetype="text/plain")
        return flask.Response(path.read_text(encoding="utf-8"), mimetype="text/markdown; charset=utf-8")

    @app.server.route("/healthz")
    def _health():
        return flask.Response("ok", mimetype="text/plain")

    return app


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


def serve(host: str = "127.0.0.1", port: int = 8050, threads: int = 8) -> None:
    """Serve the dashboard with waitress (a production WSGI server; Dash debug and dev tools
    stay off) and print the URL."""
    try:
        from waitress import serve as waitress_serve
    except ImportError as exc:  # pragma: no cover
        raise SystemExit("the dashboard needs waitress: pip install 'musclesim[serve]'") from exc
    app = create_app()
    warm_up()
    url = f"http://{'localhost' if host in ('127.0.0.1', '0.0.0.0', '::') else host}:{port}/"
    print(f"musclesim dashboard: {url}  (Ctrl+C stops it)", flush=True)
    waitress_serve(app.server, host=host, port=port, threads=threads, ident="musclesim")
