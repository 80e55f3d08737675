"""``python -m dashboard [--host H] [--port P] [--frame-ancestors ORIGINS]``: serve the dashboard."""

from __future__ import annotations

import argparse

from .app import serve


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m dashboard", description="Serve the musclesim dashboard.")
    ap.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=8050, help="port (default 8050)")
    ap.add_argument("--threads", type=int, default=8, help="worker threads (default 8)")
    ap.add_argument("--frame-ancestors", metavar="ORIGINS",
                    help="origins allowed to show the dashboard in a frame (default: none; see SECURITY.md)")
    args = ap.parse_args(argv)
    try:
        serve(args.host, args.port, args.threads, frame_ancestors=args.frame_ancestors)
    except ValueError as exc:  # a bad --frame-ancestors: one line, exit 2
        ap.exit(2, f"{ap.prog}: error: {exc}\n")


if __name__ == "__main__":
    main()
