"""python -m campaigns NAME [--dry-run]: run one of the lab's campaigns (make NAME does)."""

from __future__ import annotations

import argparse
import os
import sys

from . import CAMPAIGNS
from .stack import ROOT, Stack


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m campaigns", description=__doc__)
    parser.add_argument("name", nargs="?", choices=sorted(CAMPAIGNS), help="the campaign")
    parser.add_argument("--dry-run", action="store_true", help="print the commands it would run, run nothing")
    parser.add_argument("--list", action="store_true", help="every campaign and what it does (make help shows it)")
    args = parser.parse_args(argv)
    if args.list or args.name is None:
        for name, campaign in CAMPAIGNS.items():
            print(f"{name}\t{campaign.HELP}")
        return 0 if args.list else 2
    campaign = CAMPAIGNS[args.name]
    # A campaign may write elsewhere (reference: docs/reference), prepare its folder first
    # and finish after the report (reference: the machine, the docs rendered from the run).
    results = ROOT / getattr(campaign, "RESULTS", os.environ.get("RESULTS_DIR", "./results"))
    # What compose mounts as loadgen's /results: the campaign's folder, not make's default.
    os.environ["RESULTS_DIR"] = str(results)
    stack = Stack(results, dry_run=args.dry_run)
    try:
        if not args.dry_run and hasattr(campaign, "prepare"):
            campaign.prepare(results)
        status = stack.run(args.name, campaign.cells())
    except BrokenPipeError:  # a dry run piped into `head`
        return 0
    if not args.dry_run and hasattr(campaign, "finish"):
        status = campaign.finish(results) or status
    return status


if __name__ == "__main__":
    sys.exit(main())
