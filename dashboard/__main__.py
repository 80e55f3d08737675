"""``python -m dashboard [--host H] [--port P] [--workers N] [--threads T] [--frame-ancestors ORIGINS]``:
serve the dashboard (the same as ``musclesim serve``)."""

from __future__ import annotations

import argparse

from .app import MAX_WORKERS, ServerConfigError, default_workers, serve


def workers_arg(text: str) -> int:
    """``--workers``: a whole number from 1 to :data:`MAX_WORKERS` (argparse reports anything else)."""
    try:
        n = int(text)
    except ValueError:
        n = None
    if n is None or not 1 <= n <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to {MAX_WORKERS} (got {text!r})")
    return n


def threads_arg(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = None
    if n is None or not 1 <= n <= 64:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to 64 (got {text!r})")
    return n


def add_serve_arguments(ap) -> None:
    """The serve options, shared by ``python -m dashboard`` and ``musclesim serve``."""
    ap.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1: this computer only)")
    ap.add_argument("--port", type=int, default=8050, help="port (default 8050)")
    ap.add_argument("--workers", type=workers_arg, default=None, metavar="N",
                    help=f"worker processes, 1 to {MAX_WORKERS} (default: one per core, here {default_workers()})")
    ap.add_argument("--threads", type=threads_arg, default=None, metavar="T",
                    help="threads per worker process (default 8)")
    ap.add_argument("--frame-ancestors", metavar="ORIGINS",
                    help="origins allowed to show the dashboard in a frame, e.g. for a presentation: "
                         "'https://school.example' (default: none; see SECURITY.md)")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m dashboard", description="Serve the musclesim dashboard.")
    add_serve_arguments(ap)
    args = ap.parse_args(argv)
    try:
        serve(args.host, args.port, args.threads, frame_ancestors=args.frame_ancestors, workers=args.workers)
    except ServerConfigError as exc:  # a bad option: one line, exit 2
        ap.exit(2, f"{ap.prog}: error: {exc}\n")


if __name__ == "__main__":
    main()
