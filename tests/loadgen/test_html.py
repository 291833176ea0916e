"""report.html: the same sections as report.md, one self-contained page (loadgen/html.py).

The browser's own view of it (console, sorting, a screenshot) is the compose tier's
tests/compose/test_report_browser.py; here the page's structure, from the report fixture.
"""

import json
import re
from html.parser import HTMLParser

from loadgen import html, stats
from loadgen.report import render
from tests.loadgen.test_report import fixture


class Outline(HTMLParser):
    """The tags, attributes and text of a page, as a browser's parser reads them."""

    def __init__(self, text):
        super().__init__()
        self.tags, self.attributes, self.texts, self.stack = [], [], [], []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.texts.append(data)

    def count(self, tag):
        return self.tags.count(tag)


def markdown_counts(text):
    """Tables (their |---| rules) and images in report.md."""
    lines = text.splitlines()
    return sum(bool(html.RULE.match(line.strip())) for line in lines), sum(
        bool(html.IMAGE.match(line.strip())) for line in lines
    )


def with_histograms(folder):
    """The fixture's sweep cells with the histograms a run now saves: known latencies, so
    the percentile plot has a line per mode."""
    for path in folder.glob("*-sweep-*.json"):
        result = json.loads(path.read_text())
        for cell in result["cells"]:
            recorder = stats.Recorder()
            for i in range(1, 501):
                recorder.record(cell["figures"]["p50"] * (1 + i / 500))
            cell["figures"]["histogram"] = recorder.saved()
        path.write_text(json.dumps(result))


def test_inline_markdown_is_escaped_then_marked_up():
    assert html.inline("a *b* **c** `<d>` <e> [f](g.html)") == (
        'a <em>b</em> <strong>c</strong> <code>&lt;d&gt;</code> &lt;e&gt; <a href="g.html">f</a>'
    )
    # Stars inside words and figures are not emphasis.
    assert html.inline("2 x 3 * 4 and a*b*c") == "2 x 3 * 4 and a*b*c"


def test_blocks_become_headings_tables_lists_and_paragraphs(tmp_path):
    lines = ["# Title", "", "one", "two", "", "- x", "- *y*", "", "| a | b |", "|---|---|", "| 1 ms | <z> |", ""]
    out = html.convert(lines, tmp_path)
    assert out.startswith('<h1 id="title">Title</h1>\n<p>one two</p>\n<ul><li>x</li><li><em>y</em></li></ul>')
    assert '<table class="sortable"><thead><tr><th scope="col">a</th><th scope="col">b</th></tr></thead>' in out
    assert '<td class="num">1 ms</td><td>&lt;z&gt;</td>' in out


def test_the_html_report_has_every_table_and_plot_of_the_markdown_one_inline(tmp_path):
    fixture(tmp_path)
    with_histograms(tmp_path)
    render(tmp_path)
    md = (tmp_path / "report.md").read_text()
    page = (tmp_path / "report.html").read_text()
    tables, images = markdown_counts(md)
    outline = Outline(page)
    assert images >= 4 and tables >= 5
    # The same tables, each sortable; every image an inline SVG, no file beside the page.
    assert outline.count("table") == tables + images  # + each figure's settings table
    assert sum(1 for tag, a in outline.attributes if tag == "table" and a.get("class") == "sortable") == tables + images
    assert outline.count("figure") == images
    assert outline.count("svg") == images and outline.count("img") == 0
    assert [h.replace("`", "") for h in re.findall(r"^## (.*)$", md, re.M)] == [
        re.sub(r"<[^>]+>", "", h) for h in re.findall(r"<h2 [^>]*>(.*?)</h2>", page)
    ]
    # Nothing loaded from anywhere: no src or href but in-page anchors and data: URIs.
    for tag, attributes in outline.attributes:
        for name in ("src", "href", "xlink:href"):
            value = attributes.get(name)
            assert value is None or value.startswith(("#", "data:")), (tag, name, value)
    assert "default-src 'none'" in page
    # SVG ids are unique in the document, and every reference points at one of them.
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))
    assert set(re.findall(r'(?:href="#|url\(#)([^")]+)', page)) <= set(ids)


def test_every_figure_shows_its_settings(tmp_path):
    fixture(tmp_path)
    with_histograms(tmp_path)
    render(tmp_path)
    page = (tmp_path / "report.html").read_text()
    figures = re.findall(r"<figure id=\"([^\"]+)\">(.*?)</figure>", page, re.S)
    assert {name for name, _ in figures} >= {"sweep-throughput", "sweep-latency", "percentiles-sweep"}
    for name, body in figures:
        settings = body.split("<details>", 1)[1]
        # Mode, servers, versions, CPU budgets and commit of both sweep results.
        for text in ("20260101T000100-sweep-wsgi.json", "20260101T000100-sweep-asgi.json", "gunicorn 1w x 10t"):
            assert text in settings, (name, text)
        for text in ("Django", "Python", "gateway CPU", "backend CPU", "abc1234", "5.2.19"):
            assert text in settings, (name, text)


def test_the_percentile_plot_is_drawn_from_the_histograms_in_both_reports(tmp_path):
    fixture(tmp_path)
    render(tmp_path)
    assert "## Latency by percentile" not in (tmp_path / "report.md").read_text()  # no histograms, no plot
    with_histograms(tmp_path)
    render(tmp_path)
    md = (tmp_path / "report.md").read_text()
    assert "## Latency by percentile" in md and "](percentiles-sweep.png)" in md
    assert (tmp_path / "percentiles-sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = (tmp_path / "percentiles-sweep.svg").read_text()
    # HdrHistogram's axis: percentiles at 1/(1-q), labelled as percentiles; a line per mode.
    for label in ("percentile", "50", "90", "99", "gather, c=50", "threadpool, c=50", "wsgi", "asgi"):
        assert f">{label}<" in svg or label in svg, label


def test_a_figure_without_an_svg_is_still_inside_the_page(tmp_path):
    (tmp_path / "plot.png").write_bytes(b"\x89PNG\r\n\x1a\nfake")
    out = html.page(["# T", "", "![a plot](plot.png)", "", "![gone](missing.png)"], tmp_path)
    assert '<img alt="a plot" src="data:image/png;base64,' in out
    assert "plot missing.png is missing" in out


def test_the_page_of_a_full_lab_is_small(tmp_path):
    fixture(tmp_path)
    with_histograms(tmp_path)
    render(tmp_path)
    # Plots as SVG with text as text: tens of KB each, not the PNGs' hundreds.
    assert (tmp_path / "report.html").stat().st_size < 2_000_000


def test_a_damaged_histogram_costs_its_line_not_the_report(tmp_path):
    fixture(tmp_path)
    with_histograms(tmp_path)
    [path] = tmp_path.glob("*-sweep-wsgi.json")
    result = json.loads(path.read_text())
    for cell in result["cells"]:
        cell["figures"]["histogram"]["data"] = "HISTFAAAnot-a-histogram"
    path.write_text(json.dumps(result))
    assert render(tmp_path) is not None
    svg = (tmp_path / "percentiles-sweep.svg").read_text()
    assert "asgi" in svg and "wsgi" not in svg
