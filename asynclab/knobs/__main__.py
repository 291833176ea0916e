"""`python -m asynclab.knobs` (`make knobs`): write the rendered files; `--check`: exit 1
naming each stale one. Host-only (.dockerignore)."""

from __future__ import annotations

import sys

from .docs import FILES, ROOT, stale


def main(argv: list[str]) -> int:
    if argv == ["--check"]:
        old = stale()
        for path in old:
            print(f"{path.relative_to(ROOT)} is stale: run make knobs", file=sys.stderr)
        return 1 if old else 0
    if argv:
        print("usage: python -m asynclab.knobs [--check]", file=sys.stderr)
        return 2
    for path, render in FILES.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render())
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
