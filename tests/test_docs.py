"""The docs cannot drift from the data: every doc rendered from a template is what its
template renders to against the committed reference run, and the README's few figures are
read from the files they cite."""

import json
import re

import pytest

from bench import loadgen_vs_wrk
from campaigns import docs

README = docs.ROOT / "README.md"


@pytest.mark.parametrize(("template", "out"), docs.targets(), ids=lambda p: p.name)
def test_a_rendered_doc_is_its_template_over_the_reference_run(template, out):
    assert out.read_text() == docs.rendered(template), f"{out} is stale: run `python -m campaigns.docs`"


def test_every_figure_a_template_names_has_a_value_in_the_reference_run():
    names = docs.namespace(docs.REFERENCE)
    for template, _ in docs.targets():
        for match in docs.PLACEHOLDER.finditer(template.read_text()):
            assert docs.evaluate(match.group(1), names) is not None, f"{template.name}: {match.group(1)} is empty"


def test_the_readme_says_how_long_make_lab_took_on_the_reference_machine():
    (record,) = docs.REFERENCE.glob("*-campaign-reference-all.json")
    seconds = json.loads(record.read_text())["seconds"]
    minutes = int(re.search(r"`make lab` takes about (\d+) minutes", README.read_text()).group(1))
    assert abs(minutes * 60 - seconds) <= 60, f"README says {minutes} min, the reference run took {seconds} s"


def test_the_readme_states_the_bench_targets_the_bench_checks():
    line = next(line for line in README.read_text().splitlines() if line.startswith("| `make bench` |"))
    assert f"throughput within {loadgen_vs_wrk.RPS_WITHIN:.0%}".replace("%", " %") in line
    assert f"p50 within {loadgen_vs_wrk.P50_WITHIN:.0%}".replace("%", " %") in line


def test_the_report_renders_from_the_reference_run(tmp_path):
    # Real data, every experiment of make lab: the report once crashed on its open-loop cells.
    import shutil

    from loadgen import report

    folder = tmp_path / "reference"
    shutil.copytree(docs.REFERENCE, folder)
    (folder / "report.md").unlink()
    report.render(folder)
    text = (folder / "report.md").read_text()
    assert "sweep" in text.lower() and "open loop" in text


def test_a_campaigns_own_reference_is_read_beside_make_labs(tmp_path):
    import shutil

    (lab,) = docs.REFERENCE.glob("*-article-asgi.json")
    shutil.copy(lab, tmp_path)
    sub = tmp_path / "capacity"
    sub.mkdir()
    found = {
        "experiment": "capacity",
        "variant": "gather-auto-cpu0.5-0.5",
        "capacity": {"rate": 12.5},
        "model": {"projections": [{"cores": 4.0, "rate": 100.0}, {"cores": 8.0, "rate": 200.0}]},
    }
    record = {"experiment": "campaign", "variant": "reference", "seconds": 700.0}
    for name, result, mode in (("a-capacity.json", found, "wsgi"), ("b-campaign.json", record, "all")):
        (sub / name).write_text(json.dumps({**result, "environment": {"server_mode": mode}}))
    (sub / "machine.json").write_text(json.dumps({"cores": 2}))
    names = docs.namespace(tmp_path)
    text = "{{ capacity.wsgi.gather_auto_cpu0_5_0_5.capacity.rate }} in {{ campaign.capacity.seconds | minutes }}"
    assert docs.render(text, names) == "12.5 in 11 min 40 s"
    assert docs.render("{{ reference_capacity.cores }}", names) == "2"
    # A list's items by index: the model's projections.
    projected = "{{ capacity.wsgi.gather_auto_cpu0_5_0_5.model.projections[1].rate | .0f }}"
    assert docs.render(projected, names) == "200"
    with pytest.raises(docs.Missing, match=r"projections\[2\]"):
        docs.evaluate("capacity.wsgi.gather_auto_cpu0_5_0_5.model.projections[2].rate", names)
    # make lab's own figures stay where they were.
    assert docs.evaluate("article.asgi.gather.async_.median", names) > 1.0
    with pytest.raises(docs.Missing):
        docs.evaluate("capacity.wsgi.gather_article.capacity.rate", names)


def test_make_labs_reference_keeps_the_campaigns_folders_and_theirs_start_empty(tmp_path, monkeypatch):
    from campaigns import reference

    (tmp_path / "old.json").write_text("{}")
    (tmp_path / "capacity").mkdir()
    (tmp_path / "capacity" / "old.json").write_text("{}")
    monkeypatch.setattr(reference, "OF", "lab")
    reference.prepare(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["capacity"] and (tmp_path / "capacity" / "old.json").exists()
    monkeypatch.setattr(reference, "OF", "capacity")
    reference.prepare(tmp_path / "capacity")
    assert list((tmp_path / "capacity").iterdir()) == []


def test_a_reference_of_an_unknown_campaign_is_refused_with_the_choices(monkeypatch):
    from campaigns import reference

    monkeypatch.setattr(reference, "OF", "servers")
    with pytest.raises(SystemExit, match="REFERENCE_OF=servers: one of lab, capacity, freethreaded, chat, chat-5k"):
        reference.cells()


@pytest.mark.parametrize("campaign", ("capacity", "freethreaded", "chat", "chat-5k"))
def test_the_readme_says_how_long_each_campaign_with_a_reference_took(campaign):
    (record,) = (docs.REFERENCE / campaign).glob("*-campaign-reference-all.json")
    seconds = json.loads(record.read_text())["seconds"]
    row = next(line for line in README.read_text().splitlines() if line.startswith(f"| `make {campaign}` |"))
    minutes = int(re.search(r"~(\d+) min", row).group(1))
    assert abs(minutes * 60 - seconds) <= 60, f"README says {minutes} min, make {campaign}'s reference took {seconds} s"
