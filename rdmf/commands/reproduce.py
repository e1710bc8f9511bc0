"""``rdmf reproduce``: execute every notebook in order under a profile (the main job)."""

from __future__ import annotations

import sys

from ..profiles import PROFILES


def parse_parameters(pairs: list[str] | None) -> dict:
    params = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise ValueError(f"-p {pair!r}: expected KEY=VALUE")
        key, value = pair.split("=", 1)
        if not key.isidentifier():
            raise ValueError(f"-p {pair!r}: {key!r} is not a valid parameter name")
        params[key] = _literal(value)
    return params


def _literal(value: str):
    """'3' -> 3, '1e-3' -> 0.001, 'true' -> True, 'none' -> None, anything else a string."""
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return {"true": True, "false": False, "none": None, "null": None}.get(value.lower(), value)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "reproduce", help="execute every notebook in order (papermill) under a profile",
        description="Execute notebooks/NN_*.ipynb in order with papermill. Executed notebooks, "
                    "figures, tables and metrics go to reports/<profile>/. Stops at the first "
                    "failing notebook, naming it and the cell.")
    p.add_argument("--profile", choices=list(PROFILES), default="default",
                   help="ci: seconds per notebook (what nbval re-runs); default: a reader's CPU "
                        "run; paper: full protocol (GPU when present). Default: default")
    p.add_argument("--only", default=None,
                   help="comma-separated notebook prefixes or names, e.g. 01,02 or 05_data "
                        "(an empty selection is an error; leave --only out to run all)")
    p.add_argument("-p", "--parameter", action="append", metavar="KEY=VALUE",
                   help="extra notebook parameter (must be declared in every selected notebook's "
                        "parameters cell)")
    p.add_argument("--data-root", default=None,
                   help="root of the real benchmark data (default: $RDMF_DATA_ROOT; synthetic "
                        "only when unset)")
    p.add_argument("--update-notebooks", action="store_true",
                   help="with --profile ci: also store the executed outputs in notebooks/ "
                        "(only after a successful run)")
    p.add_argument("--timeout", type=int, default=None, metavar="SECONDS",
                   help="per-cell execution timeout (a cell that runs longer stops the run, "
                        "naming the notebook and the cell)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..reproduce import NotebookFailed, reproduce

    only = args.only.split(",") if args.only is not None else None
    try:
        results = reproduce(args.profile, only=only, parameters=parse_parameters(args.parameter),
                            update_sources=args.update_notebooks, data_root=args.data_root,
                            progress=not args.no_progress, timeout_s=args.timeout)
    except NotebookFailed as err:
        print(f"rdmf reproduce: {err}", file=sys.stderr)
        return 1
    total = sum(r.seconds for r in results)
    print(f"{len(results)} notebook(s) executed under profile {args.profile!r} in {total:.0f} s; "
          f"outputs in {results[0].output.parent if results else '-'}")
    return 0
