"""python -m swarm stack|up|down|push|lab: the lab on Docker Swarm (swarm/deploy.py)."""

import sys

from .deploy import COMMANDS


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in COMMANDS:
        print(f"usage: python -m swarm {{{'|'.join(COMMANDS)}}}", file=sys.stderr)
        return 2
    return COMMANDS[argv[0]]() or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
