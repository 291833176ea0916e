"""`loadgen servers`: the matrix's four workloads against live servers, and the report's
ranking over several modes' results."""

import asyncio
import copy
import json

from loadgen import results
from loadgen.experiments import servers
from loadgen.lab import Lab
from loadgen.report import render
from loadgen.sections import servers as servers_shown


def test_one_mode_gets_cpu_per_request_the_article_cell_a_tuned_cell_and_its_peaks(serve, tmp_path):
    backend = serve("backend", "asgi")
    gateway = serve("gateway", "asgi", BACKEND_URL=backend.url)
    lab = Lab(gateway=gateway.url, backend=backend.url, results=tmp_path, progress=False)
    result = asyncio.run(servers.run(lab, level=4, repeat=2, duration=1.0, warmup=0.3))
    for view in servers.TRIVIAL:
        cpu = result["cpu"][view]
        assert len(cpu["repeats"]) == 2 and cpu["median"] > 0, cpu
    [row] = result["article"]
    assert (row["strategy"], row["target"]) == ("gather", "sync")
    # n = 10 sleeps of 1 s that overlap: at least one delay, far under ten.
    assert 1.0 <= row["median"] < 5.0
    [cell] = result["sweep"]
    assert (cell["strategy"], cell["client"], cell["concurrency"]) == ("gather", "auto", 4)
    assert len(cell["repeats"]) == 2 and cell["bound"]["bound_by"]
    assert cell["figures"]["services"]["backend"]["threads_peak"] >= 1
    assert "tuned gather c=4" in servers_shown.table(result)
    # --fail-if reads every measurement of it: the article row's and the sweep cell's.
    assert results.measured(result) == [row["figures"], cell["figures"]]

    # A second mode's result, slower: the report ranks the faster first. (The ranking of
    # disturbed and failing cells is test_ranking's: here the live cell counts as clean.)
    result["sweep"][0]["figures"].pop("disturbed", None)
    (tmp_path / "20260101T000000-servers-asgi.json").write_text(json.dumps(result, default=str))
    slower = copy.deepcopy(result)
    slower["environment"]["server_mode"] = "hypercorn"
    slower["sweep"][0]["figures"]["rps"] = result["sweep"][0]["figures"]["rps"] / 2
    (tmp_path / "20260101T000100-servers-hypercorn.json").write_text(json.dumps(slower, default=str))
    # And a mode that could not serve the tuned cell at all ranks last, saying why.
    refused = copy.deepcopy(result)
    refused["environment"]["server_mode"] = "gunicorn-sync"
    refused["sweep"], refused["refused"] = [], "7 of 10 calls failed (timeout)"
    (tmp_path / "20260101T000200-servers-gunicorn-sync.json").write_text(json.dumps(refused, default=str))
    text = render(tmp_path).read_text()
    ranking = text.split("## Server matrix", 1)[1]
    assert ranking.index("| 1 | asgi |") < ranking.index("| 2 | hypercorn |") < ranking.index("| 3 | gunicorn-sync |")
    assert "- **gunicorn-sync**: refused: 7 of 10 calls failed (timeout)" in ranking
