"""python -m campaigns NAME [--dry-run]: run one of the lab's campaigns (make NAME does)."""

from __future__ import annotations

import argparse
import os
import sys

from . import CAMPAIGNS
from .stack import ROOT, Stack


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m campaigns", description=__doc__)
    parser.add_argument("name", choices=sorted(CAMPAIGNS), help="the campaign")
    parser.add_argument("--dry-run", action="store_true", help="print the commands it would run, run nothing")
    args = parser.parse_args(argv)
    campaign = CAMPAIGNS[args.name]
    results = ROOT / os.environ.get("RESULTS_DIR", "./results")
    return Stack(results, dry_run=args.dry_run).run(args.name, campaign.cells())


if __name__ == "__main__":
    sys.exit(main())
