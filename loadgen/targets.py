"""Where a loadgen replica may send requests: the hosts of its allow-list, and nowhere else.

A replica runs the plans of a conductor that proved it holds the secret (handshake.py).
Still, a plan's URLs name hosts, and a replica that loaded whatever a plan named would be a
load generator against anything its network reaches, machines outside the lab included.
So a replica takes a plan only when every URL names a host of its allow-list
(LOADGEN_REPLICA_TARGETS: the stack's own services, gateway, backend and edge, unless
widened), and follows a redirect only to such a host: a redirect elsewhere is that
request's error (ForbiddenTarget), and nothing connects there. Hosts are read by yarl, the
parser aiohttp itself connects by, so the check and the connection cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import aiohttp
from yarl import URL

from asynclab.knobs import KNOBS, normal_host

ENV = "LOADGEN_REPLICA_TARGETS"
DEFAULT = KNOBS[ENV].default


class ForbiddenTarget(aiohttp.ClientError):
    """A redirect to a host outside the allow-list: counted as the request's error."""


def allowed(text: str) -> frozenset[str]:
    """The allow-list from its knob's text (already checked by its cast)."""
    return frozenset(text.split(","))


def blank(environ: Mapping[str, str]) -> bool:
    """LOADGEN_REPLICA_TARGETS set, but to nothing: refused rather than read as the default,
    since whoever emptied it meant something other than the stack's own services."""
    return ENV in environ and not environ[ENV].replace(",", " ").strip()


def host_of(url: str | URL) -> str:
    try:
        parsed = URL(url) if isinstance(url, str) else url
    except ValueError:
        return ""
    return normal_host(parsed.host or "")


def check(urls: Iterable[str], hosts: frozenset[str]) -> None:
    """ValueError naming the first URL whose host is not in `hosts`."""
    for url in urls:
        host = host_of(url)
        if host not in hosts:
            raise ValueError(
                f"plan: {url[:200]} names host {host[:100]!r}; this replica loads only "
                f"{', '.join(sorted(hosts))} ({ENV})"
            )


def guard(hosts: frozenset[str]) -> aiohttp.TraceConfig:
    """A trace for the replica's session that stops a redirect to any other host before
    aiohttp connects there (it resolves the Location against the URL it answered, as here)."""

    async def on_redirect(session, context, params: aiohttp.TraceRequestRedirectParams) -> None:
        location = params.response.headers.get("Location") or params.response.headers.get("URI") or ""
        try:
            target = params.url.join(URL(location))
        except ValueError:
            target = URL()
        if host_of(target) not in hosts:
            params.response.close()
            raise ForbiddenTarget(f"a redirect to {host_of(target)[:100]!r}, not a host this replica loads")

    config = aiohttp.TraceConfig()
    config.on_request_redirect.append(on_redirect)
    config.freeze()
    return config
