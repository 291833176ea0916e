"""Container healthcheck: exit 0 when this container's /healthz answers "ok".

Python rather than curl because the image carries no curl, and the check must use the same
port and host rules as the server.
"""

import json
import sys
import urllib.request

from .knobs import read


def main() -> int:
    url = f"http://127.0.0.1:{read('PORT')}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return 0 if json.load(response).get("status") == "ok" else 1
    except (OSError, ValueError) as exc:
        print(f"healthcheck: {url}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
