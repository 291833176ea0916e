"""report.md's Markdown as one self-contained HTML page: the same lines, so the sections
have one source, with every plot inlined as SVG, tables that sort by any column, and each
figure's settings under it.

The page loads nothing: no network, no CDN, no file beside it (its Content-Security-Policy
forbids all of them), so it opens from file:// offline and can be mailed as it is. Only the
Markdown the report writes is understood: headings, paragraphs, `- ` lists, `|` tables,
images on a line of their own, *emphasis*, **strong**, `code` and [links](url).

Over 250 lines: the page's style and script are inline by design (it loads nothing), beside
the Markdown converter.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

IMAGE = re.compile(r"^!\[(?P<alt>[^\]]*)\]\((?P<src>[^)\s]+)\)$")
HEADING = re.compile(r"^(?P<level>#{1,6})\s+(?P<text>.*)$")
RULE = re.compile(r"^\|(\s*:?-+:?\s*\|)+$")
FENCE = "```"

# Scripts and styles in the page itself, nothing from anywhere else: what the browser enforces.
POLICY = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"

STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1b1f24;
  margin: 0; background: #fff; }
main { max-width: 1180px; margin: 0 auto; padding: 1.5rem 1.25rem 4rem; }
h1 { font-size: 1.7rem; margin: 0.5rem 0 1rem; }
h2 { font-size: 1.35rem; margin: 2.2rem 0 0.6rem; padding-bottom: 0.25rem; border-bottom: 1px solid #d8dee4; }
h3 { font-size: 1.1rem; margin: 1.6rem 0 0.5rem; }
p, li { max-width: 75em; }
code { font: 0.88em ui-monospace, SFMono-Regular, Menlo, monospace; background: #f2f4f7; padding: 0.1em 0.3em;
  border-radius: 4px; }
pre { background: #f2f4f7; padding: 0.8rem; overflow-x: auto; }
nav { background: #f6f8fa; border: 1px solid #d8dee4; border-radius: 6px; padding: 0.5rem 1rem; }
nav ul { margin: 0.3rem 0; padding-left: 1.2rem; columns: 2; }
.scroll { overflow-x: auto; margin: 0.6rem 0 1rem; }
table { border-collapse: collapse; font-size: 0.86rem; }
th, td { border: 1px solid #d0d7de; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
thead th { background: #eef1f4; position: sticky; top: 0; cursor: pointer; user-select: none; white-space: nowrap; }
thead th:hover { background: #dfe5eb; }
thead th[aria-sort="ascending"]::after { content: " \\25B2"; font-size: 0.75em; }
thead th[aria-sort="descending"]::after { content: " \\25BC"; font-size: 0.75em; }
tbody tr:nth-child(even) { background: #fafbfc; }
figure { margin: 1rem 0 1.5rem; border: 1px solid #d8dee4; border-radius: 6px; padding: 0.6rem; }
figure svg, figure img { display: block; width: 100%; height: auto; }
figcaption { font-size: 0.85rem; color: #57606a; margin-top: 0.3rem; }
details { margin-top: 0.4rem; font-size: 0.85rem; }
summary { cursor: pointer; color: #0550ae; }
"""

# Click a header to sort by its column, again to reverse. Figures sort as numbers with their
# units ("850 us" < "1.2 ms" < "1.02 s", "45 %", "0.95x", "12 / 80 MiB" by its first figure);
# cells without one ("-", "?") go last either way, text sorts as text.
SCRIPT = r"""
(function () {
  var UNITS = {us: 1e-6, "\u00b5s": 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600, KiB: 1024, MiB: 1048576, GiB: 1073741824};
  // A figure is a whole number at the start: "20261201T..." or "2026-12-01" are text, not 2026120.
  var FIGURE = /^\s*([-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?)(?![\d.])\s*(us|\u00b5s|ms|s|m|h|KiB|MiB|GiB|%|x)?(?![\w-])/;
  function key(text) {
    var m = FIGURE.exec(text);
    if (!m) return {kind: text.trim() === "" || /^[-?]$/.test(text.trim()) ? 2 : 1, text: text.trim().toLowerCase()};
    return {kind: 0, value: parseFloat(m[1]) * (UNITS[m[2]] || 1)};
  }
  function compare(a, b) {
    if (a.kind !== b.kind) return a.kind - b.kind;
    if (a.kind === 0) return a.value - b.value;
    return a.text < b.text ? -1 : a.text > b.text ? 1 : 0;
  }
  function sort(table, column, th) {
    var body = table.tBodies[0];
    var descending = th.getAttribute("aria-sort") === "ascending";
    var rows = Array.prototype.slice.call(body.rows).map(function (row, index) {
      var cell = row.cells[column];
      return {row: row, index: index, key: key(cell ? cell.textContent : "")};
    });
    rows.sort(function (a, b) {
      var order = compare(a.key, b.key);
      // Missing figures stay last in both directions; equal keys keep their order.
      if (order !== 0 && a.key.kind !== 2 && b.key.kind !== 2 && descending) order = -order;
      return order || a.index - b.index;
    });
    rows.forEach(function (item) { body.appendChild(item.row); });
    Array.prototype.forEach.call(th.parentNode.cells, function (other) { other.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", descending ? "descending" : "ascending");
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, column) {
      th.title = "sort by " + th.textContent;
      th.addEventListener("click", function () { sort(table, column, th); });
    });
  });
})();
"""

NUMERIC = re.compile(r"^[-+]?\d[\d.,]*\s*(us|µs|ms|s|m|h|KiB|MiB|GiB|%|x)?(\s|$|/)")


def inline(text: str) -> str:
    """One line of Markdown text as HTML: escaped first, so nothing in it is taken for markup."""
    parts = re.split(r"(`[^`]*`)", text)
    out = []
    for part in parts:
        if len(part) >= 2 and part.startswith("`") and part.endswith("`"):
            out.append(f"<code>{html.escape(part[1:-1], quote=False)}</code>")
            continue
        part = html.escape(part, quote=False)
        part = re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)", lambda m: f'<a href="{html.escape(m[2])}">{m[1]}</a>', part)
        part = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", part)
        part = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<em>\1</em>", part)
        out.append(part)
    return "".join(out)


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A sortable table; figures right-aligned."""
    head = "".join(f'<th scope="col">{inline(cell)}</th>' for cell in header)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="num">{inline(cell)}</td>' if NUMERIC.match(cell) else f"<td>{inline(cell)}</td>"
            for cell in row
        )
        body.append(f"<tr>{cells}</tr>")
    return (
        f'<div class="scroll"><table class="sortable"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _svg(text: str, prefix: str) -> str:
    """A matplotlib SVG file as an element for the page: no XML prolog or doctype, its ids
    made unique to this figure (several SVGs share one document), sized by the page."""
    text = re.sub(r"<\?xml[^>]*\?>\s*", "", text)
    text = re.sub(r"<!DOCTYPE[^>]*>\s*", "", text)
    ids = set(re.findall(r'\bid="([^"]+)"', text))
    for name in sorted(ids, key=len, reverse=True):
        text = text.replace(f'id="{name}"', f'id="{prefix}{name}"')
        text = text.replace(f'"#{name}"', f'"#{prefix}{name}"').replace(f"url(#{name})", f"url(#{prefix}{name})")
    return re.sub(r"<svg\b[^>]*>", _fit, text, count=1)


def _fit(match: re.Match) -> str:
    """The root tag with its fixed size as a largest size instead: its viewBox keeps the
    shape, and a plot narrower than the page keeps its own width rather than blowing up."""
    tag = match[0]
    width = re.search(r'\swidth="([^"]*)"', tag)
    tag = re.sub(r'\s(width|height)="[^"]*"', "", tag)
    return tag[:-1] + (f' style="max-width: {width[1]}">' if width else ">")


def figure(alt: str, src: str, folder: Path, settings: Sequence[str] | None, index: int) -> str:
    """An image reference as an inline figure: the SVG drawn beside the PNG, else the PNG
    itself as a data: URI, so the page stays one file either way."""
    png = folder / src
    svg = png.with_suffix(".svg")
    if svg.is_file():
        body = _svg(svg.read_text(), f"f{index}-")
    elif png.is_file():
        data = base64.b64encode(png.read_bytes()).decode("ascii")
        body = f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'
    else:
        body = f"<p><em>plot {html.escape(src)} is missing</em></p>"
    details = ""
    if settings:
        details = f"<details><summary>settings of this figure</summary>{convert(settings, folder)}</details>"
    return f'<figure id="{html.escape(Path(src).stem)}">{body}<figcaption>{inline(alt)}</figcaption>{details}</figure>'


def _anchor(text: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", re.sub(r"<[^>]+>", "", text).lower()).strip("-") or "section"
    name, count = base, 1
    while name in taken:
        count += 1
        name = f"{base}-{count}"
    taken.add(name)
    return name


def convert(lines: Sequence[str], folder: Path, settings: Mapping[str, Sequence[str]] | None = None) -> str:
    """The Markdown lines as HTML blocks."""
    settings = settings or {}
    out: list[str] = []
    paragraph: list[str] = []
    taken: set[str] = set()
    figures = 0
    i = 0

    def flush() -> None:
        if paragraph:
            out.append(f"<p>{inline(' '.join(paragraph))}</p>")
            paragraph.clear()

    while i < len(lines):
        line = lines[i].rstrip()
        stripped = line.strip()
        if not stripped:
            flush()
            i += 1
        elif stripped.startswith(FENCE):
            flush()
            end = next((j for j in range(i + 1, len(lines)) if lines[j].strip().startswith(FENCE)), len(lines))
            out.append(f"<pre><code>{html.escape(chr(10).join(lines[i + 1 : end]), quote=False)}</code></pre>")
            i = end + 1
        elif match := HEADING.match(stripped):
            flush()
            level, text = len(match["level"]), inline(match["text"])
            out.append(f'<h{level} id="{_anchor(text, taken)}">{text}</h{level}>')
            i += 1
        elif stripped.startswith("|") and i + 1 < len(lines) and RULE.match(lines[i + 1].strip()):
            flush()
            header = _cells(stripped)
            rows = []
            i += 2
            while i < len(lines) and lines[i].strip().startswith("|"):
                rows.append(_cells(lines[i]))
                i += 1
            out.append(table(header, rows))
        elif match := IMAGE.match(stripped):
            flush()
            figures += 1
            out.append(figure(match["alt"], match["src"], folder, settings.get(match["src"]), figures))
            i += 1
        elif stripped.startswith("- "):
            flush()
            items = []
            while i < len(lines) and lines[i].strip().startswith("- "):
                items.append(f"<li>{inline(lines[i].strip()[2:])}</li>")
                i += 1
            out.append(f"<ul>{''.join(items)}</ul>")
        else:
            paragraph.append(stripped)
            i += 1
    flush()
    return "\n".join(out)


def contents(body: str) -> str:
    """A list of the page's sections (its h2 headings), linked."""
    found = re.findall(r'<h2 id="([^"]+)">(.*?)</h2>', body)
    if len(found) < 2:
        return ""
    items = "".join(f'<li><a href="#{anchor}">{text}</a></li>' for anchor, text in found)
    return f"<nav><strong>Sections</strong><ul>{items}</ul></nav>"


def page(lines: Sequence[str], folder: Path, settings: Mapping[str, Sequence[str]] | None = None) -> str:
    """A whole HTML document of the Markdown lines; images are looked up in `folder`, and
    settings[image file name] (Markdown lines) goes under that figure."""
    body = convert(lines, folder, settings)
    title = next((re.sub(r"<[^>]+>", "", m) for m in re.findall(r"<h1[^>]*>(.*?)</h1>", body)), "asynclab")
    # The contents go after the first heading and its paragraph, before the first section.
    first = body.find("<h2")
    body = body if first < 0 else body[:first] + contents(body) + "\n" + body[first:]
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n{body}\n</main>\n"
        f"<script>{SCRIPT}</script>\n</body>\n</html>\n"
    )
