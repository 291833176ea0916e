"""Latency and throughput maths. Pure functions, plus one HdrHistogram-backed recorder.

Latencies are recorded in microseconds in an HdrHistogram (3 significant digits, up to an
hour), so percentiles cost the same at ten samples or ten million and never average away
the tail.
"""

from __future__ import annotations

import math

from hdrh.histogram import HdrHistogram

PERCENTILES = (50.0, 90.0, 99.0, 99.9)
_LOWEST_US = 1
_MAX_US = 3_600_000_000
_DIGITS = 3
# A recorded value reads back within this fraction of itself (a bucket's width): the minimum as
# its bucket's lowest value, percentiles and the maximum as their bucket's highest.
RESOLUTION = 10.0**-_DIGITS
# What a result file says its histograms are, so any HdrHistogram library can read them back
# (Java's decodeFromCompressedByteBuffer, hdrhistogram-js's decodeFromCompressedBase64, ...).
ENCODING = "HdrHistogram V2 compressed base64"


class Recorder:
    def __init__(self) -> None:
        self.histogram = HdrHistogram(_LOWEST_US, _MAX_US, _DIGITS)
        self.total = 0.0

    def record(self, seconds: float) -> None:
        self.histogram.record_value(min(max(1, round(seconds * 1e6)), _MAX_US))
        self.total += seconds

    def add(self, other: Recorder) -> None:
        """Fold another recorder in: HdrHistogram adds bucket counts, so every percentile of
        the sum is exact, where averaging the parts' percentiles would not be."""
        self.histogram.add(other.histogram)
        self.total += other.total

    def encode(self) -> dict:
        """A picklable, compact form for another process: HdrHistogram's own encoding."""
        return {"histogram": self.histogram.encode(), "total": self.total}

    @classmethod
    def decode(cls, data: dict) -> Recorder:
        recorder = cls()
        recorder.histogram.add(HdrHistogram.decode(data["histogram"]))
        recorder.total = data["total"]
        return recorder

    def saved(self) -> dict:
        """The histogram as a result file keeps it: HdrHistogram's standard compressed base64
        encoding with what it takes to read it (microseconds, range, significant digits), so
        results can be merged or re-read at any percentile later instead of only at the
        summary's few."""
        return {
            "encoding": ENCODING,
            "unit": "us",
            "lowest": _LOWEST_US,
            "highest": _MAX_US,
            "digits": _DIGITS,
            "data": self.histogram.encode().decode("ascii"),
        }

    @property
    def count(self) -> int:
        return self.histogram.get_total_count()

    def percentile(self, q: float) -> float | None:
        return self.histogram.get_value_at_percentile(q) / 1e6 if self.count else None

    def summary(self) -> dict[str, float | int | None]:
        """count, mean, min, p50, p90, p99, p99.9 and max, in seconds."""
        empty = self.count == 0
        figures: dict[str, float | int | None] = {
            "count": self.count,
            "mean": None if empty else self.total / self.count,
            "min": None if empty else self.histogram.get_min_value() / 1e6,
        }
        for q in PERCENTILES:
            figures[percentile_name(q)] = self.percentile(q)
        figures["max"] = None if empty else self.histogram.get_max_value() / 1e6
        return figures


def percentile_name(q: float) -> str:
    """50 -> p50, 99.9 -> p999."""
    return "p" + f"{q:g}".replace(".", "")


def percentile_of_name(name: str) -> float | None:
    """p50 -> 50, p999 -> 99.9; None for a name that is no percentile (max, mean)."""
    for q in PERCENTILES:
        if percentile_name(q) == name:
            return q
    return None


def samples_needed(q: float) -> int:
    """The fewest samples for the q-th percentile to be more than the largest one: 1 / (1 - q),
    so p50 needs 2, p90 10, p99 100 and p99.9 1,000. Below that, the tail is the maximum."""
    return math.ceil(round(100 / (100 - q), 9))


def corrected(intended: float, sent: float, done: float) -> tuple[float, float]:
    """(corrected, uncorrected) latency of one open-loop request.

    Corrected counts from when the schedule said the request should go out, so time spent
    waiting behind a stalled server or a busy client is not hidden (coordinated omission);
    uncorrected counts from when it really went out.
    """
    return done - intended, done - sent


def littles_law(concurrency: float, throughput: float, mean_latency: float | None, tolerance: float = 0.15) -> dict:
    """Check L = X * W for a closed-loop cell: in-flight requests = throughput * mean latency.

    A cell that breaks it was measured over a window too short for its latency (or the
    client could not keep `concurrency` requests in flight): its figures are suspect.
    """
    observed = throughput * mean_latency if mean_latency is not None else 0.0
    ratio = observed / concurrency if concurrency else 0.0
    return {
        "concurrency": concurrency,
        "throughput_x_latency": round(observed, 3),
        "ratio": round(ratio, 3),
        "holds": abs(ratio - 1) <= tolerance,
    }


def histogram_of(saved: dict) -> HdrHistogram:
    """A result file's histogram (Recorder.saved) back as an HdrHistogram, values in microseconds."""
    if saved.get("encoding") != ENCODING or saved.get("unit") != "us":
        raise ValueError(f"not a histogram this loadgen wrote: {saved.get('encoding')!r} in {saved.get('unit')!r}")
    return HdrHistogram.decode(saved["data"].encode("ascii"))


def percentile_of(saved: dict, q: float) -> float | None:
    """The q-th percentile, in seconds, of a result file's histogram (None if it is empty)."""
    histogram = histogram_of(saved)
    return histogram.get_value_at_percentile(q) / 1e6 if histogram.get_total_count() else None


def merged(saved: list[dict]) -> dict:
    """Several runs' histograms added into one, in the same saved form: every percentile of
    the sum is exact, where averaging the runs' percentiles would not be."""
    recorder = Recorder()
    for one in saved:
        recorder.histogram.add(histogram_of(one))
    return recorder.saved()
