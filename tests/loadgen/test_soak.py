"""The soak experiment's memory growth, from the services' telemetry samples."""

from loadgen.experiments.soak import growth


def test_growth_compares_memory_after_warm_up_with_the_end():
    def sample(at, rss, threads):
        return {"at": at, "rss_bytes": {"now": rss}, "threads": {"now": threads}}

    samples = [sample(0, 50, 5), sample(10, 100, 9), sample(20, 104, 9), sample(30, 105, 10)]
    assert growth(samples, after=10) == {
        "rss_after_warmup": 100,
        "rss_end": 105,
        "growth": 0.05,
        "threads_after_warmup": 9,
        "threads_end": 10,
    }
    assert growth(samples, after=31) is None
