"""Results on another Django key apart from the default's (loadgen/results.py), and the
report's side-by-side section reads them (loadgen/experiments/versions.py). Units, from
result files shaped like loadgen's."""

from loadgen.lab import Lab
from loadgen.report import render
from loadgen.results import load, save
from loadgen.sections import versions as versions_shown
from tests.loadgen.test_report import figures


def environment(django, mode, emulated=False, stamp="2026-12-01T10:00:00+00:00"):
    health = {
        "versions": {"django": django, "asgiref": "3.3.1", "python": "3.9.2"},
        "django31_threads": emulated,
        "server": {"server": "uvicorn", "workers": 1, "threads": None},
    }
    return {"timestamp": stamp, "server_mode": mode, "gateway": health, "backend": health}


def article(django, mode, timed_out, emulated=False, stamp="2026-12-01T10:00:00+00:00"):
    cell = figures(1, 5.0 if timed_out else 1.05, 5.0)
    cell["partial"] = 3 if timed_out else 0
    rows = [
        {
            "strategy": "gather",
            "target": "sync",
            "median": cell["p50"],
            "article": "uvicorn runs the sync views on one thread",
            "expected": "timeout" if mode == "asgi" else "one",
            "matches": timed_out if mode == "asgi" else True,
            "reason": "calls timed out, as the article says" if timed_out else "since Django 3.2 ...",
            "figures": cell,
        }
    ]
    return {
        "experiment": "article",
        "scenario": {"n": 10, "delay": 1.0, "repeat": 1, "concurrency": 1},
        "environment": environment(django, mode, emulated, stamp),
        "rows": rows,
    }


def write(folder, result):
    path = save(Lab(gateway="http://g", backend="http://b", results=folder), result)
    assert path is not None
    return path


def test_each_django_keys_apart_and_the_default_keeps_its_plain_key(tmp_path):
    names = [
        write(tmp_path, article("3.1.14", "asgi", timed_out=True)).name,
        write(tmp_path, article("5.2.19", "asgi", timed_out=False)).name,
        write(tmp_path, article("5.2.19", "asgi", timed_out=True, emulated=True)).name,
    ]
    assert [name.split("-", 1)[1] for name in names] == [
        "article-django3.1-asgi.json",
        "article-asgi.json",
        "article-django5.2+django31-threads-asgi.json",
    ]
    assert sorted(load(tmp_path)) == [
        ("article", "asgi"),
        ("article@3.1", "asgi"),
        ("article@5.2+django31-threads", "asgi"),
    ]


def test_the_section_sets_versions_side_by_side_with_a_verdict_per_claim(tmp_path):
    write(tmp_path, article("3.1.14", "asgi", timed_out=True))
    write(tmp_path, article("3.2.25", "asgi", timed_out=False))
    write(tmp_path, article("5.2.19", "asgi", timed_out=False))
    write(tmp_path, article("5.2.19", "asgi", timed_out=True, emulated=True))
    lines = versions_shown.section(load(tmp_path), tmp_path).lines
    text = "\n".join(lines)
    assert "## Django versions side by side" in text
    header = next(line for line in lines if line.startswith("| strategy"))
    assert header.index("3.1 asgi") < header.index("3.2 asgi") < header.index("5.2 asgi")
    assert "5.2 + DJANGO31_THREADS asgi" in header
    verdict = next(line for line in lines if line.startswith("- **gather / sync view**"))
    assert "holds on 3.1 asgi, 5.2 + DJANGO31_THREADS asgi" in verdict
    assert "not on 3.2 asgi, 5.2 asgi" in verdict
    assert "Both time out" in text


def test_one_django_alone_makes_no_section_and_other_sections_see_the_default_only(tmp_path):
    write(tmp_path, article("5.2.19", "asgi", timed_out=False))
    assert versions_shown.section(load(tmp_path), tmp_path).lines == []
    write(tmp_path, article("3.1.14", "asgi", timed_out=True, stamp="2026-12-01T11:00:00+00:00"))
    render(tmp_path)
    report = (tmp_path / "report.md").read_text()
    # The article's own section still shows the 5.2 run, not the newer 3.1 one.
    article_section = report.split("## The article's table", 1)[1].split("\n## ", 1)[0]
    assert "1.05 s" in article_section and "5.00 s" not in article_section
    assert "## Django versions side by side" in report
