"""`make browser`: Chromium for the report's browser test (the compose tier opens report.html
in a real headless browser). Nothing when it is on PATH; else Debian's, with apt, as root;
else how to install it, and exit 1."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

INSTALL = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"]


def main() -> int:
    if shutil.which("chromium"):
        return 0
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("make browser: installing chromium (the report's browser test needs it)", flush=True)
        environ = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(INSTALL, env=environ, stdout=subprocess.DEVNULL, check=True)
        return 0
    print("make browser: the report's browser test needs Chromium; install it with:")
    print("  sudo apt-get install -y --no-install-recommends chromium")
    return 1


if __name__ == "__main__":
    sys.exit(main())
