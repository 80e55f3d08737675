"""``python -m dashboard [--host H] [--port P]``: serve the dashboard."""

from __future__ import annotations

import argparse

from .app import serve


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m dashboard", description="Serve the musclesim dashboard.")
    ap.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=8050, help="port (default 8050)")
    ap.add_argument("--threads", type=int, default=8, help="worker threads (default 8)")
    args = ap.parse_args(argv)
    serve(args.host, args.port, args.threads)


if __name__ == "__main__":
    main()
