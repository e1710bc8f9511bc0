"""``rdmf experiments``: run the comparison shards, build the tables, regenerate the README block.

    rdmf experiments run --profile paper --group tvsum [--shard 'tvsum_BK_*'] [--part 0/2]
    rdmf experiments status --profile paper
    rdmf experiments tables --profile paper
    rdmf experiments readme [--check]
    rdmf experiments necessity --size bench --split val
"""

from __future__ import annotations

import sys
import time

from ..profiles import PROFILES


def register(subparsers) -> None:
    from rdmf.experiments.protocols import GROUPS
    p = subparsers.add_parser(
        "experiments", help="fusion comparison: run shards, build tables, update the README block",
        description="Resumable experiment shards (data set x fusion x seed [x domain/fold/variant]) "
                    "under a profile; tables (markdown + JSON) beside the published numbers; the "
                    "README headline block. See docs/experiments.md.")
    sub = p.add_subparsers(dest="action", metavar="ACTION")
    run = sub.add_parser("run", help="train every shard of the chosen groups (finished ones are skipped)")
    run.add_argument("--profile", choices=list(PROFILES), default="default")
    run.add_argument("--group", choices=GROUPS, action="append",
                     help="experiment group (repeatable; default: all)")
    run.add_argument("--shard", action="append", default=[], metavar="PATTERN",
                     help="only shards whose id matches this glob or substring (repeatable)")
    run.add_argument("--part", default=None, metavar="I/N",
                     help="run every N-th selected shard starting at I (parallel workers)")
    run.add_argument("--data-root", default=None, help="real data root (else $RDMF_DATA_ROOT)")
    run.add_argument("--threads", type=int, default=1, help="torch threads per process (default 1)")
    run.add_argument("--list", action="store_true", help="only list the selected shards")
    run.set_defaults(func=_run)
    st = sub.add_parser("status", help="planned / finished / failed shards per group")
    st.add_argument("--profile", choices=list(PROFILES), default="default")
    st.set_defaults(func=_status)
    tb = sub.add_parser("tables", help="aggregate stored shard results into reports/<profile>/tables/")
    tb.add_argument("--profile", choices=list(PROFILES), default="default")
    tb.add_argument("--data-root", default=None, help="real data root for the TVSum references")
    tb.set_defaults(func=_tables)
    rd = sub.add_parser("readme", help="regenerate the README headline block from reports/paper")
    rd.add_argument("--profile", choices=list(PROFILES), default="paper")
    rd.add_argument("--check", action="store_true",
                    help="exit 1 when README.md's block differs from the generated one")
    rd.set_defaults(func=_readme)
    dg = sub.add_parser("diagnose", help="the RD diagnostics of a trained rd shard's best checkpoint "
                        "(affine R², effective kinetics, reaches, flash response)")
    dg.add_argument("--profile", choices=list(PROFILES), default="paper")
    dg.add_argument("--group", default="bench")
    dg.add_argument("--shard", required=True, help="the shard id (its run folder must hold best.ckpt)")
    dg.add_argument("--n", type=int, default=64, help="val queries to diagnose (default 64)")
    dg.set_defaults(func=_diagnose)
    ne = sub.add_parser("necessity", help="does the synthetic benchmark need temporal context? "
                        "(floors vs temporal references; docs/design.md §7)")
    ne.add_argument("--size", default="bench", choices=("ci", "default", "bench", "full"))
    ne.add_argument("--split", default="val", choices=("val", "test"))
    ne.add_argument("--epochs", type=int, default=20)
    ne.set_defaults(func=_necessity)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _diagnose(args) -> int:
    import json

    import torch

    from rdmf.experiments.analysis import diagnostics_summary
    from rdmf.experiments.protocols import shards
    from rdmf.experiments.runner import run_dir, shard_data
    from rdmf.paths import reports_dir
    from rdmf.reports import write_report_json
    from rdmf.train.engine import load_model
    shard = next((s for s in shards(args.profile, args.group) if s.id == args.shard), None)
    if shard is None or shard.fusion != "rd":
        raise ValueError(f"--shard {args.shard!r}: not an rd shard of group {args.group!r} under "
                         f"profile {args.profile!r}")
    checkpoint = run_dir(args.profile, shard) / "best.ckpt"
    if not checkpoint.is_file():
        raise ValueError(f"{checkpoint}: no best checkpoint (run the shard first)")
    torch.set_num_threads(1)
    model, _, _, _ = load_model(checkpoint, "best", torch.device("cpu"), None)
    _, val, _ = shard_data(args.profile, args.group, shard)
    out = {"shard": shard.id, **diagnostics_summary(model, val[:args.n])}
    path = write_report_json(reports_dir(args.profile) / "diagnostics" / f"{shard.id}.json", out)
    print(json.dumps(out, indent=1))
    print(f"wrote {path}")
    return 0


def _necessity(args) -> int:
    import json

    from rdmf.experiments.necessity import run
    out = run(args.size, args.split, epochs=args.epochs)
    print(json.dumps(out["criteria"], indent=1))
    print(f"wrote {out['path']}")
    return 0 if out["criteria"]["passed"] else 1


def _part(text: str | None):
    if text is None:
        return None
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise ValueError(f"--part {text!r}: expected I/N, e.g. 0/2") from None
    return i, n


def check_patterns(profile: str, groups: list[str], patterns: list[str]) -> None:
    """Every ``--shard`` pattern must select at least one shard of the chosen groups."""
    from rdmf.experiments.protocols import shards
    from rdmf.experiments.runner import matches

    ids = [shard.id for group in groups for shard in shards(profile, group)]
    for pattern in patterns:
        if not pattern.strip():
            raise ValueError("--shard '': empty pattern; give a shard id glob or substring")
        if not any(matches(shard_id, pattern) for shard_id in ids):
            raise ValueError(f"--shard {pattern!r}: matches no shard of group(s) "
                             f"{', '.join(groups)} under profile {profile!r} (see "
                             "`rdmf experiments run --list`)")


def _run(args) -> int:
    import torch

    from rdmf.experiments.protocols import GROUPS
    from rdmf.experiments.runner import run_group, select
    from rdmf.paths import data_root
    torch.set_num_threads(max(1, args.threads))
    root = data_root(args.data_root)
    groups = args.group or list(GROUPS)
    part = _part(args.part)
    check_patterns(args.profile, groups, args.shard)
    for group in groups:
        if group in ("tvsum", "youtube") and root is None:
            print(f"{group}: skipped (no real data root: pass --data-root or set RDMF_DATA_ROOT)")
            continue
        if args.list:
            for shard in select(args.profile, group, args.shard, part):
                print(group, shard.id)
            continue
        t0 = time.time()
        run_group(args.profile, group, patterns=args.shard, part=part,
                  data_root=None if root is None else str(root),
                  log=lambda line: print(line, flush=True))
        print(f"{group}: finished in {time.time() - t0:.0f} s", flush=True)
    return 0


def _status(args) -> int:
    from rdmf.experiments.runner import group_status
    for group, st in group_status(args.profile).items():
        print(f"{group:16s} {st['done']:4d} done  {st['failed']:3d} failed  of {st['planned']:4d}")
    return 0


def _tables(args) -> int:
    from rdmf.experiments.tables import write_tables
    from rdmf.paths import data_root
    root = data_root(args.data_root)
    paths = write_tables(args.profile, data_root=None if root is None else str(root))
    for path in paths:
        print(path)
    return 0


def _readme(args) -> int:
    from rdmf.experiments.readme import check_readme, update_readme
    if args.check:
        ok, message = check_readme(args.profile)
        print(message, file=sys.stdout if ok else sys.stderr)
        return 0 if ok else 1
    print(update_readme(args.profile))
    return 0
