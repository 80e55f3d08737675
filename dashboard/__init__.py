"""The musclesim dashboard (Dash): move a muscle's tone, watch the posture change, see why.

``python -m dashboard`` serves it on http://127.0.0.1:8050/; :func:`dashboard.app.create_app`
returns the app for tests or another WSGI server.
"""

from __future__ import annotations


def create_app():
    from .app import create_app as _create

    return _create()


def serve(host: str = "127.0.0.1", port: int = 8050, workers: int | None = None) -> None:
    from .app import serve as _serve

    _serve(host, port, workers=workers)
