"""SERVER_MODE=runserver: Django's threaded development server, the article's first setup.

Not for production; here because the article's first experiment ran on it.
"""

NAME = "runserver"


def arguments(cfg) -> list[str]:
    return ["django", "runserver", f"{cfg.host}:{cfg.port}", "--noreload", "--settings", f"{cfg.service}.settings"]
