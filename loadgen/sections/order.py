"""The report's order of sections, by name: what ran first, then the article, what explains
it, and the rest. An experiment's section has the experiment's name."""

NAMES = (
    "campaign",
    "partial",
    "article",
    "sweep",
    "capacity",
    "servers",
    "versions",
    "freethreaded",
    "breakdown",
    "percentiles",
    "resources",
    "db",
    "clients",
    "faults",
    "soak",
    "streams",
    "slowclients",
    "chat",
    "run",
    "bench",
)
