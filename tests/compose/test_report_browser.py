"""Compose tier: a short real run through the stack, `make report`, and report.html opened
from file:// in a real headless Chromium over the DevTools protocol.

Required like the rest of the tier: with no Docker engine or no `chromium` on PATH (`make
browser` installs it, and `make test` runs that first) these tests fail, they never skip.
The stack is started with compose itself, not `make up`, so that running this file alone
measures the image `make test` just built instead of rebuilding it.

Over 250 lines: it carries its own small DevTools-protocol client (Browser), which only
these tests use.
"""

from __future__ import annotations

import asyncio
import base64
import io
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import aiohttp
import pytest

from harness.live import ROOT, free_port
from loadgen import html
from tests.compose.test_stack import compose

pytestmark = pytest.mark.compose

PROJECT = f"asynclabreport{os.getpid()}"


def run(*argv, env=None, timeout=600):
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """A results folder from a real, short run (article and a sweep with --repeat 2, under
    wsgi), rendered by `make report`; (folder, make report's output)."""
    if shutil.which("chromium") is None:
        pytest.fail("the report's browser test needs Chromium: run `make browser` (make test does)")
    if shutil.which("docker") is None or run("docker", "info").returncode != 0:
        pytest.fail("the compose tier needs a running Docker engine (docker info failed)")
    results = tmp_path_factory.mktemp("results")
    env = {
        **os.environ,
        "COMPOSE_PROJECT_NAME": PROJECT,
        "GATEWAY_PORT": str(free_port()),
        "BACKEND_PORT": str(free_port()),
        "HEALTHCHECK_INTERVAL": "1s",
        "RESULTS_DIR": str(results),
        "POSTGRES_SECRET_FILE": os.environ.get("POSTGRES_SECRET_FILE", "./build/postgres-password"),
        "SERVER_MODE": "wsgi",
        # compose runs the services on DJANGO_IMAGE (make sets it; docs/versions.md): here, the default image.
        "DJANGO_IMAGE": os.environ.get("DJANGO_IMAGE") or os.environ.get("LAB_IMAGE", "asynclab:latest"),
    }
    for knob in ("BACKEND_SERVER_MODE", "GATEWAY_SERVER_MODE"):
        env.pop(knob, None)
    command = compose(env)
    try:
        up = run(*command, "up", "-d", "--remove-orphans", "backend", "gateway", env=env)
        assert up.returncode == 0, up.stdout + up.stderr
        healthy = run("docker/wait-healthy.sh", *command, "--", "backend", "gateway", env=env)
        assert healthy.returncode == 0, healthy.stdout + healthy.stderr
        for argv in (
            ["article", "--fanout", "3", "--delay", "0.1", "--repeat", "3"],
            ["sweep", "--strategies", "gather,threadpool", "--clients", "article", "--levels", "2,4"]
            + ["--repeat", "2", "--duration", "1s", "--warmup", "0.5s", "--fanout", "3", "--delay", "0.05"],
        ):
            done = run(*command, "run", "--rm", "--no-deps", "loadgen", *argv, "--quiet", env=env)
            assert done.returncode == 0, done.stdout + done.stderr
        rendered = run("make", "report", env=env)
        assert rendered.returncode == 0, rendered.stdout + rendered.stderr
        yield results, rendered.stdout
    finally:
        run(*command, "--profile", "loadgen", "down", "--volumes", "--remove-orphans", env=env)


class Browser:
    """Headless Chromium driven over the DevTools protocol (aiohttp's websocket client):
    every console message, exception, log entry and network request of the page is kept."""

    def __init__(self, profile: str) -> None:
        self.process = subprocess.Popen(
            [
                shutil.which("chromium"),
                "--headless",
                # Root in CI containers: Chromium's sandbox needs a user namespace it may not get.
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--hide-scrollbars",
                "--window-size=1280,1600",
                f"--user-data-dir={profile}",
                "--remote-debugging-port=0",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.events: list[dict] = []
        self.ids = itertools.count(1)

    async def __aenter__(self) -> Browser:
        port = await asyncio.to_thread(self._port)
        self.session = aiohttp.ClientSession()
        async with self.session.get(f"http://127.0.0.1:{port}/json/list") as response:
            pages = [t for t in await response.json() if t["type"] == "page"]
        self.socket = await self.session.ws_connect(pages[0]["webSocketDebuggerUrl"], max_msg_size=0)
        for domain in ("Page", "Runtime", "Log", "Network"):
            await self.send(f"{domain}.enable")
        return self

    async def __aexit__(self, *exc) -> None:
        await self.socket.close()
        await self.session.close()
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def _port(self) -> int:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if match := re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line):
                return int(match[1])
            if not line and self.process.poll() is not None:
                break
        raise RuntimeError("chromium did not open its DevTools port")

    async def send(self, method: str, **params) -> dict:
        ident = next(self.ids)
        await self.socket.send_json({"id": ident, "method": method, "params": params})
        async with asyncio.timeout(60):
            while True:
                message = json.loads((await self.socket.receive()).data)
                if message.get("id") == ident:
                    assert "error" not in message, message
                    return message["result"]
                self.events.append(message)

    async def wait_for(self, method: str) -> dict:
        async with asyncio.timeout(60):
            while not any(e.get("method") == method for e in self.events):
                self.events.append(json.loads((await self.socket.receive()).data))
        return next(e for e in self.events if e.get("method") == method)

    async def evaluate(self, expression: str):
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")

    async def open(self, url: str) -> None:
        self.events.clear()
        await self.send("Page.navigate", url=url)
        await self.wait_for("Page.loadEventFired")

    def problems(self) -> list[dict]:
        """Console errors and warnings, uncaught exceptions, error log entries (CSP violations among them)."""
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                found.append(params)
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "warning", "assert"):
                found.append(params)
            elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
                found.append(params["entry"])
        return found

    def requests(self) -> list[str]:
        return [e["params"]["request"]["url"] for e in self.events if e.get("method") == "Network.requestWillBeSent"]


COUNTS = """({
  tables: document.querySelectorAll("table").length,
  sortable: document.querySelectorAll("table.sortable").length,
  figures: document.querySelectorAll("figure").length,
  svgs: document.querySelectorAll("figure > svg").length,
  drawn: Array.from(document.querySelectorAll("figure > svg")).filter(s => s.getBBox().width > 100).length,
  images: document.querySelectorAll("img").length,
  settings: Array.from(document.querySelectorAll("figure details")).map(d => d.textContent),
  headings: Array.from(document.querySelectorAll("h2")).map(h => h.textContent),
})"""

# Sort the first table with a "req/s" column by it, and read the column back each time.
SORT = """(() => {
  const table = Array.from(document.querySelectorAll("table.sortable")).find(
    t => Array.from(t.tHead.rows[0].cells).some(c => c.textContent === "req/s"));
  const column = Array.from(table.tHead.rows[0].cells).findIndex(c => c.textContent === "req/s");
  const read = () => Array.from(table.tBodies[0].rows).map(r => parseFloat(r.cells[column].textContent));
  const before = read();
  table.tHead.rows[0].cells[column].click();
  const up = read();
  table.tHead.rows[0].cells[column].click();
  return {before, up, down: read(), state: table.tHead.rows[0].cells[column].getAttribute("aria-sort")};
})()"""


def markdown_counts(text: str) -> tuple[int, int]:
    lines = [line.strip() for line in text.splitlines()]
    return sum(bool(html.RULE.match(line)) for line in lines), sum(bool(html.IMAGE.match(line)) for line in lines)


def colours(png: bytes) -> tuple[int, float]:
    """(distinct colours, share of pixels that are not white) of a screenshot."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    counts = image.getcolors(image.width * image.height)
    white = sum(count for count, colour in counts if colour == (255, 255, 255))
    return len(counts), 1 - white / (image.width * image.height)


def browse(url: str, *scripts: str) -> tuple[list, list, list, bytes]:
    async def session():
        with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
            async with Browser(profile) as browser:
                await browser.open(url)
                values = [await browser.evaluate(script) for script in scripts]
                shot = await browser.send("Page.captureScreenshot", format="png")
                return values, browser.problems(), browser.requests(), base64.b64decode(shot["data"])

    return asyncio.run(session())


def test_the_browser_check_sees_errors_requests_and_a_blank_page(tmp_path):
    """The checks below can fail: a script error, a blocked request and an empty page are seen."""
    if shutil.which("chromium") is None:
        pytest.fail("the report's browser test needs Chromium: run `make browser` (make test does)")
    broken = tmp_path / "broken.html"
    broken.write_text(
        f'<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="{html.POLICY}"></head>'
        '<body><img src="http://127.0.0.1:9/x.png"><script>undefinedFunction();</script></body></html>'
    )
    _, problems, requests, shot = browse(broken.as_uri())
    assert any("undefinedFunction" in json.dumps(p) for p in problems), problems
    assert any("Content Security Policy" in json.dumps(p) for p in problems), problems
    blank = tmp_path / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body></body></html>")
    assert browse(blank.as_uri())[1:3] == ([], [blank.as_uri()])
    distinct, inked = colours(browse(blank.as_uri())[3])
    assert distinct <= 2 and inked < 0.01


def test_a_column_sorts_by_its_figures_with_their_units(tmp_path):
    if shutil.which("chromium") is None:
        pytest.fail("the report's browser test needs Chromium: run `make browser` (make test does)")
    values = ["1.02 s", "850 us", "-", "12.3 ms", "2026-12-01T11:29", "abc", "20261201T112902-a.json", "45 %"]
    page = tmp_path / "sort.html"
    page.write_text(html.page(["# t", "", "| v |", "|---|", *(f"| {v} |" for v in values)], tmp_path))
    click = """(() => { const th = document.querySelector("th"), read = () =>
      Array.from(document.querySelectorAll("tbody td")).map(td => td.textContent);
      th.click(); const up = read(); th.click(); return [up, read()]; })()"""
    [[up, down]], problems, _, _ = browse(page.as_uri(), click)
    assert problems == []
    # Durations by their length, figures before text, a missing figure last both ways.
    assert up == ["850 us", "12.3 ms", "1.02 s", "45 %", "2026-12-01T11:29", "20261201T112902-a.json", "abc", "-"]
    assert down == [*reversed(up[:-1]), "-"]


def test_make_report_writes_both_reports_and_says_where(report):
    folder, output = report
    assert f"{folder}/report.md" in output and f"{folder}/report.html" in output, output
    assert (folder / "report.html").stat().st_size < 2_000_000
    # Every measurement saved its histogram; the report drew them by percentile.
    sweep = json.loads(next(folder.glob("*-sweep-wsgi.json")).read_text())
    assert all(run["histogram"]["data"] for cell in sweep["cells"] for run in cell["repeats"])
    assert "](percentiles-sweep.png)" in (folder / "report.md").read_text()


def test_the_html_report_opens_offline_in_a_browser_with_every_table_and_plot(report):
    folder, _ = report
    page = folder / "report.html"
    [counts, sorting], problems, requests, shot = browse(page.as_uri(), COUNTS, SORT)
    assert problems == [], problems
    # Nothing but the page itself: no network, no file beside it.
    assert requests == [page.as_uri()], requests

    tables, images = markdown_counts((folder / "report.md").read_text())
    assert images >= 5  # the sweep's three, percentiles of the article and of the sweep
    assert counts["figures"] == counts["svgs"] == counts["drawn"] == images and counts["images"] == 0
    # Each of report.md's tables, plus one settings table under each figure; all sortable.
    assert counts["tables"] == counts["sortable"] == tables + images
    md_headings = [h.replace("`", "") for h in re.findall(r"^## (.*)$", (folder / "report.md").read_text(), re.M)]
    assert counts["headings"] == md_headings
    for settings in counts["settings"]:
        assert "wsgi" in settings and "gunicorn" in settings and "Django" in settings and "cores" in settings

    assert sorting["up"] == sorted(sorting["before"]) and sorting["down"] == sorted(sorting["before"], reverse=True)
    assert sorting["state"] == "descending"

    distinct, inked = colours(shot)
    assert distinct > 50 and inked > 0.02, (distinct, inked)


def test_the_comparison_page_opens_in_a_browser_too(report, tmp_path):
    folder, _ = report
    [sweep] = folder.glob("*-sweep-wsgi.json")
    done = subprocess.run(
        [sys.executable, "-m", "loadgen", "compare", str(sweep), str(sweep), "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # A run against itself: every cell the same, but for one the host's neighbours disturbed,
    # which compare rightly will not judge (rule 0 can fire on a busy CI machine).
    disturbed = sum(bool(cell["figures"].get("disturbed")) for cell in json.loads(sweep.read_text())["cells"])
    assert f"0 slower, 0 faster, {4 - disturbed} same within noise of 4 matched" in done.stdout, done.stdout
    [rows], problems, requests, shot = browse(
        (tmp_path / "compare.html").as_uri(), "document.querySelectorAll('table.sortable tbody tr').length"
    )
    assert problems == [] and rows == 4, problems
    assert colours(shot)[0] > 20
