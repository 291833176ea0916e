"""What `make bench-tax` prints: each mode's thread hops and CPU per request per stack, the
ratios between stacks, and the summary (bench/asgi_tax.py measures)."""

from __future__ import annotations

from .tax_stacks import STACKS, VIEWS

# The targets the summary states (benchmarks, never asserts); docs/asgi-tax.md quotes them
# and tests/test_docs_figures.py checks it quotes these.
LAB_OVER_BARE = 1.05
LEAN_OVER_BARE = 0.65


def ratios(cpu: dict) -> dict:
    return {
        view: {
            f"{stack}/bare": round(cpu[stack][view]["median_us"] / cpu["bare"][view]["median_us"], 3)
            for stack in ("lab", "lean")
        }
        for view in VIEWS
    }


def print_hops(mode: str, name: str, hops: dict) -> None:
    print(f"\n== {name} (SERVER_MODE={mode}): per request, sequential")
    print(f"  {'stack':6} {'view':6} {'sync_to_async':>14} {'async_to_sync':>14} {'threads started':>16}")
    for stack, views in hops.items():
        for view, counts in views.items():
            print(
                f"  {stack:6} {view:6} {counts['sync_to_async']:14.2f} {counts['async_to_sync']:14.2f}"
                f" {counts['threads_started']:16.2f}"
            )
            for site, value in counts["by_site"].items():
                print(f"      {value:5.2f}  {site}")


def print_cpu(mode: str, name: str, entry: dict) -> None:
    print(f"\n== {name} (SERVER_MODE={mode}): CPU per request (median, spread), failed={entry['failed']}")
    for stack, views in entry["cpu"].items():
        cells = "  ".join(f"{view}: {c['median_us']:7.1f} µs ({c['spread']:4.0%})" for view, c in views.items())
        print(f"  {stack:5} {cells}   idle {entry['idle_cpu_per_s'][stack] * 1000:.1f} ms/s")


def print_summary(result: dict) -> None:
    print(f"\n== ratios of CPU per request (targets: lab/bare <= {LAB_OVER_BARE}, lean/bare <= {LEAN_OVER_BARE})")
    print(f"  {'server':22} {'view':6} {'bare µs':>9} {'lab µs':>9} {'lean µs':>9} {'lab/bare':>9} {'lean/bare':>10}")
    for mode, entry in result["servers"].items():
        for view in VIEWS:
            cpu = {stack: entry["cpu"][stack][view]["median_us"] for stack in STACKS}
            r = entry["ratios"][view]
            print(
                f"  {entry['server'] + ' (' + mode + ')':22} {view:6} {cpu['bare']:9.1f} {cpu['lab']:9.1f}"
                f" {cpu['lean']:9.1f} {r['lab/bare']:9.3f} {r['lean/bare']:10.3f}"
            )
