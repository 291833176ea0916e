"""The figures the hand-written docs keep are designed ones (a limit, a default, a target)
and each is read here from the code that holds it, so a change to the code fails until the
doc says the same. Measured figures are not kept in these docs at all: they come from a
result file (docs/templates/, tests/test_docs.py) or from the command the doc names.

Over 250 lines: one short test per figure, each reading a doc's line and the constant it states."""

import re
from pathlib import Path

import pytest

from asynclab import telemetry

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def doc(name: str) -> str:
    # Joined lines: a sentence the doc wraps is still one string to match.
    return " ".join((DOCS / name).read_text().split())


def row(name: str, first_cell: str) -> list[str]:
    """The cells of the table row in docs/NAME whose first cell is `first_cell`."""
    for line in (DOCS / name).read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.lstrip().startswith("|") and cells[0] == first_cell:
            return cells
    raise AssertionError(f"docs/{name} has no row {first_cell!r}")


def number(text: str) -> float:
    """`4,096` and `0.25` as written in the docs."""
    return float(text.replace(",", ""))


# docs/asgi-tax.md


def test_asgi_tax_states_the_targets_the_bench_prints():
    from bench import tax_printed

    text = doc("asgi-tax.md")
    assert f"lab ≤ {tax_printed.LAB_OVER_BARE} × bare, lean ≤ {tax_printed.LEAN_OVER_BARE} × bare" in text
    assert f"Meeting {tax_printed.LAB_OVER_BARE} would mean" in text


def test_asgi_tax_states_the_benchs_defaults():
    source = (ROOT / "bench" / "asgi_tax.py").read_text()
    defaults = {name: int(value) for name, value in re.findall(r'"--(\w+)", type=int, default=(\d+)', source)}
    per_view = int(re.search(r"def count_hops\(mode: str, per_view: int = (\d+)\)", source).group(1))
    text = doc("asgi-tax.md")
    assert f"aiohttp drives {defaults['requests']} requests per round" in text
    assert f"over {defaults['concurrency']} keep-alive connections" in text
    assert f"the median of {defaults['rounds']} rounds" in text
    assert f"sends {per_view} sequential requests to each view" in text
    assert f"divides the change in the counts by {per_view}" in text
    # A clock tick of 10 ms spread over one round's requests: the resolution of a figure.
    tick_us = float(re.search(r"One clock tick \(10 ms\) is ([\d.]+) µs per request", text).group(1))
    assert tick_us == pytest.approx(10_000 / defaults["requests"])


def test_asgi_tax_states_the_telemetry_periods_the_code_has():
    text = doc("asgi-tax.md")
    assert f"the sampler every {telemetry.SAMPLE * 1000:.0f} ms, the publish every {telemetry.PUBLISH} s" in text


def test_asgi_tax_cites_the_thread_counts_test_lean_asserts():
    source = (ROOT / "tests" / "asynclab" / "test_lean.py").read_text()
    found = re.search(r"def threads_while_busy\(server, concurrency: int = (\d+), delay: float = ([\d.]+)\)", source)
    concurrency, delay = found.groups()
    at_least = re.search(r"assert threads_while_busy\(shipped\) >= (\d+)", source).group(1)
    under = re.search(r"assert threads_while_busy\(lean\) < (\d+)", source).group(1)
    text = doc("asgi-tax.md")
    assert f"with {concurrency} async requests of {delay} s in flight, `/telemetry` reports at least {at_least}" in text
    assert f"fewer than {under} with `LEAN=true`" in text


# docs/streams.md


def loadgen_defaults(module) -> dict:
    import argparse

    parser = argparse.ArgumentParser()
    module.options(parser)
    return vars(parser.parse_args([]))


def test_streams_states_the_stream_endpoints_limits():
    from asynclab.knobs import KNOBS
    from backend import streams as views

    text = doc("streams.md")
    assert f"`events` ticks (default 10, 1..{views.MAX_EVENTS:,})" in text
    assert f"at most `STREAM_MAX_SECONDS` ({KNOBS['STREAM_MAX_SECONDS'].default:.0f})" in text
    assert f"at most {KNOBS['STREAM_MAX_SECONDS'].default:.0f} s (STREAM_MAX_SECONDS)" in text


def test_streams_states_loadgen_streams_and_slowclients_defaults():
    from loadgen import streaming
    from loadgen.experiments import slowclients, streams

    text = doc("streams.md")
    got = loadgen_defaults(streams)
    assert f"`make streams` (levels {'/'.join(map(str, got['levels']))})" in text
    assert f"over `--ramp` ({got['ramp']:g} s)" in text
    assert f"for `--hold` ({got['hold']:g} s), an event every `--interval` ({got['interval']:g} s)" in text
    assert f"`--fanout` ({got['fanout']}) calls" in text
    assert f"(`--rate` {got['rate']:g}/s, `--ordinary-timeout` {got['ordinary_timeout']:g} s)" in text
    assert f"`2 x ramp + hold + {streaming.GRACE:g} s` after it starts" in text
    got = loadgen_defaults(slowclients)
    assert f"K connections (`--levels {','.join(map(str, got['levels']))}`)" in text
    assert f"a byte every `--every` {got['every']:g} s" in text
    assert f"for `--hold` {got['hold']:g} s" in text
    assert f"at {got['rate']:g}/s with a {got['ordinary_timeout']:g} s timeout" in text


def test_streams_states_the_campaigns_arguments():
    from campaigns import edge_nginx, streams, streams_5k

    text = doc("streams.md")
    assert f"`make streams-5k` (`{streams_5k.ARGS}`" in text
    hold = re.search(r"--hold (\d+)s", streams.SLOWCLIENTS).group(1)
    assert f"their {hold} s, `SLOWCLIENTS_ARGS`" in text
    assert f"(`EDGE_COST_ARGS`, `{edge_nginx.COST.split(' --warmup')[0]}`" in text
    assert f"(`EDGE_LATENCY_ARGS`, `{edge_nginx.LATENCY.split(' --warmup')[0]}`" in text


def test_streams_states_the_knobs_and_nginx_settings_the_lab_has():
    from asynclab.knobs import KNOBS

    text = doc("streams.md")
    conf = (ROOT / "docker" / "nginx" / "nginx.conf").read_text()
    assert f"`NOFILE` ({KNOBS['NOFILE'].default:,}) open files" in text
    assert f"published on `EDGE_PORT` ({KNOBS['EDGE_PORT'].default})" in text
    for setting, cell in (
        ("client_header_timeout", "`client_header_timeout`, `client_body_timeout`"),
        ("proxy_read_timeout", "`proxy_read_timeout`"),
    ):
        seconds = re.search(rf"{setting} (\d+)s;", conf).group(1)
        assert row("streams.md", cell)[1] == f"{seconds} s", setting
    buffers = re.search(r"large_client_header_buffers (\d+) (\d+k);", conf).groups()
    assert row("streams.md", "`large_client_header_buffers`")[1] == " x ".join(buffers)
    keepalive = re.search(r"keepalive (\d+);", conf).group(1)
    assert f"`keepalive {keepalive}` to `gateway:8000`" in text
    processes = re.search(r"worker_processes (\d+);", conf).group(1)
    connections = re.search(r"worker_connections (\d+);", conf).group(1)
    assert f"`worker_processes {processes}`, `worker_connections {connections}`" in text


# docs/swarm.md


def test_swarm_states_the_replicas_bounds_the_code_has():
    from loadgen import handshake, plan, replicas, wire
    from swarm import stack

    text = doc("swarm.md")
    assert f"`START_MARGIN` ({plan.START_MARGIN * 1000:.0f} ms)" in text
    assert f"A replica with no secret (or under {handshake.MIN_SECRET} bytes) refuses to start" in text
    assert f"within **{handshake.HANDSHAKE_TIMEOUT:g} s**" in text
    assert f"An unproved connection has {handshake.HANDSHAKE_TIMEOUT:g} s." in text
    assert f"at most **{handshake.MAX_PENDING}** connections may be proving themselves" in text
    assert f"refusals are logged at most {handshake.LOG_RATE} a second" in text
    assert f"(**{replicas.IDLE_LIMIT:g} s**, `loadgen replica --idle-limit`" in text
    assert "pings every quarter of the limit" in text and replicas.PINGS_PER_IDLE_LIMIT == 4
    assert f"(`GATEWAY_BACKEND_WAIT`, {stack.BACKEND_WAIT:g} s on the stack" in text
    # The longest plan line, as the doc rounds it: ~260 KB of 64 URLs of 4,096 characters.
    kib = re.search(r"lines of at most ~(\d+) KB", text).group(1)
    assert int(kib) == round(wire.PLAN_LINE / 1024, -1)
    assert f"({wire.LIMITS['urls']} URLs of at most {wire.MAX_URL:,} characters each)" in text
    assert f"up to {wire.PART_LINE // 2**20} MiB" in text
    # The access test's flood, as tests/loadgen/test_replica_access.py sizes it.
    flood = (ROOT / "tests" / "loadgen" / "test_replica_access.py").read_text()
    assert "flood = 3 * handshake.MAX_PENDING" in flood
    assert f"a flood of {3 * handshake.MAX_PENDING} connections" in text


@pytest.mark.parametrize(
    "knob",
    [
        "SWARM_STACK",
        "LOADGEN_REPLICAS",
        "SWARM_ENDPOINT_MODE",
        "REGISTRY_PORT",
        "SWARM_RESULTS_DIR",
        "LOADGEN_SECRET_FILE",
        "LOADGEN_REPLICA_TARGETS",
    ],
)
def test_swarm_states_each_knobs_default(knob):
    from asynclab.knobs import KNOBS

    assert row("swarm.md", f"`{knob}`")[1] == str(KNOBS[knob].default)


def test_swarm_states_the_replicas_of_each_service_and_the_sweep():
    from asynclab.knobs import KNOBS
    from swarm import deploy

    cells = row("swarm.md", "`BACKEND_REPLICAS`, `GATEWAY_REPLICAS`")
    assert cells[1] == str(KNOBS["BACKEND_REPLICAS"].default) == str(KNOBS["GATEWAY_REPLICAS"].default)
    sweep = row("swarm.md", "`SWARM_SWEEP` (make)")[1]
    options = dict(re.findall(r"--(\w+) (\S+)", deploy.SWEEP))
    assert (options["strategies"], options["clients"]) == ("gather", "article,auto")
    assert sweep == f"gather, article and tuned client, c = {options['levels']}, {options['repeat']} repeats"


# docs/versions.md


def test_versions_states_the_call_timeout_and_the_loadgen_versions_defaults():
    from asynclab.knobs import KNOBS
    from loadgen.experiments import versions

    text = doc("versions.md")
    timeout = KNOBS["GATEWAY_TIMEOUT"].default
    assert f"the rest time out at {timeout:g} s" in text
    assert f"with the gateway's {timeout:g} s call timeout (`GATEWAY_TIMEOUT`)" in text
    got = loadgen_defaults(versions)
    assert f"at {got['level']} requests of {got['delay']:g} s)" in text
    # The article's cell: ten sync views of 1 s in turn on one thread outlast the timeout.
    assert "Ten 1 s sync views take 10 s one after another" in text and 10 * 1.0 > timeout


def test_versions_says_since_4_0_and_never_since_3_2():
    # Django 4.0 put each ASGI request in its own ThreadSensitiveContext; 3.2 behaves as 3.1
    # (tests/compose/test_versions.py requires the timeout on 3.1 and 3.2, none on 4.2).
    for name in ("versions.md", "asgi-tax.md", "streams.md", "observability.md"):
        assert not re.search(r"since (Django )?3\.2", doc(name)), name
    assert "(since 4.0)" in doc("versions.md") and "**From 4.0 on it does not**" in doc("versions.md")


# docs/edge.md


def test_edge_states_the_labs_limits_and_hosts():
    from asynclab import edge
    from asynclab.knobs import KNOBS

    assert row("edge.md", "request target (path and query, as sent)")[1] == f"{edge.MAX_TARGET:,} bytes"
    assert row("edge.md", "header fields (a repeated field folds into one, as Django sees them)")[1] == str(
        edge.MAX_HEADERS
    )
    assert row("edge.md", "header bytes (names plus values)")[1] == f"{edge.MAX_HEADER_BYTES:,}"
    assert f"`ALLOWED_HOSTS` (default `{KNOBS['ALLOWED_HOSTS'].default}`;" in doc("edge.md")
    assert f"its target check ({edge.MAX_TARGET:,} bytes)" in doc("edge.md")


def test_edge_states_the_servers_own_limits_the_lab_sets_and_pythons():
    import http.client

    from asynclab import edge

    limits = edge.server_limits()
    line = row("edge.md", f"request line past {limits['request_line']:,} bytes")
    assert f"`--limit-request-line {limits['request_line']}`" in line[1]
    # runserver is Python's http.server: its line and header-count limits are http.client's.
    assert f"up to {http.client._MAXLINE // 1024} KB, then `414` HTML" in line[3]
    field = row("edge.md", f"one header field past {limits['header_field_bytes']:,} bytes")
    assert f"`--limit-request-field_size {limits['header_field_bytes']}`" in field[1]
    assert f"up to {http.client._MAXLINE // 1024} KB, then `431` HTML" in field[3]
    fields = row("edge.md", f"more than {limits['header_fields']} header lines")
    assert f"`--limit-request-fields {limits['header_fields']}`" in fields[1]
    assert f"past {http.client._MAXHEADERS} lines" in fields[3]
    text = doc("edge.md")
    assert f"{limits['header_fields'] + 1} header lines" in text
    assert f"{edge.MAX_HEADERS + 1} to {limits['header_fields']} copies of one header" in text


def test_edge_states_nginxs_own_limits():
    conf = (ROOT / "docker" / "nginx" / "nginx.conf").read_text()
    count, size = re.search(r"large_client_header_buffers (\d+) (\d+)k;", conf).groups()
    body = re.search(r"client_max_body_size (\d+)k;", conf).group(1)
    assert f"the request line is longer than nginx (the edge) takes: {size} KB" in conf
    assert row("edge.md", f"a request line over {size} KB")[1] == "`414 uri_too_long`"
    assert row("edge.md", f"a header line over {size} KB, or a head over nginx's buffers ({count} x {size} KB)")
    assert row("edge.md", f"a body over {body} KB")[1] == "`413 body_too_large`"
    assert f"up to nginx's {size} KB line" in doc("edge.md")


def test_edge_states_the_worst_one_request_can_do_from_the_knobs():
    from asynclab.knobs import KNOBS

    deadline, fanout = KNOBS["GATEWAY_MAX_DEADLINE"].default, KNOBS["GATEWAY_MAX_FANOUT"].default
    delay, calls = KNOBS["BACKEND_MAX_DELAY"].default, KNOBS["GATEWAY_MAX_CALLS"].default
    text = doc("edge.md")
    assert f"`GATEWAY_MAX_DEADLINE` ({deadline:g} s)" in text
    assert f"= {fanout} × {delay:g} s = {fanout * delay:,.0f} backend-seconds" in text
    assert f"`GATEWAY_MAX_CALLS` ({calls:,}) backend calls" in text


# docs/observability.md


def test_observability_states_the_telemetry_periods_the_code_has():
    text = doc("observability.md")
    assert f"publishes its figures every {telemetry.PUBLISH} s" in text
    assert f'"sample_interval": {telemetry.SAMPLE}' in text
    assert f"(sampled every {telemetry.SAMPLE * 1000:.0f} ms, including the sampler's own)" in text
    assert f"(how late a {telemetry.SAMPLE * 1000:.0f} ms timer fires)" in text
    # Peak.recent(): the current second and the one before.
    assert "`recent_peak` over the last 1–2 s" in text and "the current plus the previous whole second" in (
        telemetry.Peak.__doc__
    )


def test_observability_cites_the_thread_counts_its_test_asserts():
    source = (ROOT / "tests" / "gateway" / "test_tracing.py").read_text()
    concurrency, delay = re.search(
        r"def threads_while_busy\(backend, concurrency=(\d+), delay=([\d.]+)\)", source
    ).groups()
    at_least = re.search(r"assert threads_while_busy\(shipped\) >= (\d+)", source).group(1)
    under = re.search(r"assert threads_while_busy\(trimmed\) < (\d+)", source).group(1)
    text = doc("observability.md")
    assert f"{concurrency} async requests of {delay} s in flight hold at least {at_least} threads" in text
    assert f"fewer than {under} without" in text


# docs/topology.md and docs/offline-build.md


def test_topology_states_the_ports_users_and_limits_the_config_has():
    from asynclab.knobs import KNOBS

    text = doc("topology.md")
    conf = (ROOT / "docker" / "nginx" / "nginx.conf").read_text()
    lab = re.search(r"useradd --system --uid (\d+) .* lab\b", (ROOT / "Dockerfile").read_text()).group(1)
    edge = re.search(r"useradd --system --uid (\d+)", (ROOT / "docker" / "nginx" / "Dockerfile").read_text()).group(1)
    assert f"published on `EDGE_PORT` ({KNOBS['EDGE_PORT'].default})" in text
    header_timeout = re.search(r"client_header_timeout (\d+)s;", conf).group(1)
    assert f"{header_timeout} s to send a request head" in text
    assert f"as user `edge` (uid {edge})" in text and f"as user `lab` (uid {lab})" in text
    assert f"`NOFILE` ({KNOBS['NOFILE'].default:,}) open files" in text
    assert f"Ports are published on `{KNOBS['PUBLISH_HOST'].default}` only (`PUBLISH_HOST`)" in text


def test_offline_build_states_the_postgres_stop_signal_it_has():
    dockerfile = (ROOT / "docker" / "postgres.Dockerfile").read_text()
    signal = re.search(r"^STOPSIGNAL (\w+)$", dockerfile, re.MULTILINE).group(1)
    assert f"stops on `STOPSIGNAL {signal}`, PostgreSQL's fast shutdown" in doc("offline-build.md")


def test_testing_names_the_call_timeout_the_gateway_has():
    from asynclab.knobs import KNOBS

    timeout = KNOBS["GATEWAY_TIMEOUT"].default
    assert f"not by the {timeout:g} s call timeout" in doc("testing.md")
