"""Every knob of the lab, declared once: name, default, cast, range or choices, meaning,
section, and who reads it; split by audience:

- knob.py: the `Knob` declaration, the sections, the registry (`KNOBS`) and `read`;
- services.py (with backend.py and gateway.py): the knobs read inside the containers;
- stack.py: the host's (compose, make, the images, the Swarm stack);
- docs.py and __main__.py: `.env.example`, `docs/knobs.md` and docs/servers.md's servers
  table, rendered by `make knobs` (`python -m asynclab.knobs`).

The services read their knobs with `read(NAME)`, which hands the declaration to
asynclab.config's `env()`/`service_env()` (cast, default, range check, a loud ConfigError
naming the variable). tests/asynclab/test_knobs.py fails when the generated files are
stale, when code reads a knob not declared here, when a declared knob is read by nothing,
and when docker-compose.yml passes a name that is not declared.

docker-compose.yml passes the services' knobs through by name only (an empty value: the
host's value if it is set, nothing otherwise), so their defaults are written here alone.
The values compose itself interpolates (ports, images, PUBLISH_HOST, HEALTHCHECK_INTERVAL,
RESULTS_DIR, LAB_UID/LAB_GID, POSTGRES_*, NETEM_*: `compose=True`) also keep their
`${NAME:-default}` there, since compose cannot read Python; the test checks each one equals
the default declared here.
"""

from importlib.util import find_spec

from . import services
from .knob import (
    BACKEND,
    BOTH,
    CONTAINER,
    DATABASE,
    GATEWAY,
    HOST,
    IMAGE,
    KNOBS,
    LOADGEN,
    NETEM,
    SECTIONS,
    SERVER,
    SERVICES,
    SWARM,
    Knob,
    base_url,
    declare,
    declared,
    hosts,
    names,
    normal_host,
    read,
    text,
)

# The services' image has no stack.py (.dockerignore leaves the host's modules out): the code
# there reads only the services' knobs and the few of the stack's it needs (IN_CONTAINERS).
# On the host, stack.py places those among its own, where they are documented.
if find_spec(f"{__name__}.stack") is None:
    declare([*services.KNOBS, *services.IN_CONTAINERS.values()])
else:
    from . import stack

    declare([*services.KNOBS, *stack.KNOBS])

__all__ = [
    "BACKEND",
    "BOTH",
    "CONTAINER",
    "DATABASE",
    "GATEWAY",
    "HOST",
    "IMAGE",
    "KNOBS",
    "LOADGEN",
    "NETEM",
    "SECTIONS",
    "SERVER",
    "SERVICES",
    "SWARM",
    "Knob",
    "base_url",
    "declared",
    "hosts",
    "names",
    "normal_host",
    "read",
    "text",
]
