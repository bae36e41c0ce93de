"""Confidence intervals of a change between two independent samples (优化前后).

* rates (a share of records): the Newcombe hybrid score interval for a
  difference of two proportions (Newcombe 1998, method 10), built from the
  two Wilson score intervals (as :func:`scipy.stats.binomtest` gives them) —
  good coverage down to small counts and rates near 0 or 1, where the
  textbook Wald interval is too narrow;
* means, medians and percentiles: a percentile bootstrap of the difference
  (each window resampled on its own, the metric's own aggregation applied
  to every resample) with a fixed seed, so the same records always give the
  same interval; one resample at a time, so memory stays flat at any size.

Each function returns ``(low, high)`` of *after − before*.

Newcombe's own worked example (Statistics in Medicine 17, 1998, table II):
56/70 against 48/80 gives 0.0524 to 0.3339.

>>> low, high = newcombe(48, 80, 56, 70)
>>> round(low, 4), round(high, 4)
(0.0524, 0.3339)
"""
from __future__ import annotations

import math
from statistics import NormalDist
from typing import Callable

import numpy as np

BOOTSTRAP_SEED = 20240301  # any fixed number: the interval must not change between two refreshes


def wilson(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion (no continuity correction).

    >>> [round(x, 4) for x in wilson(8, 10)]
    [0.4902, 0.9433]
    """
    # the closed form scipy.stats.binomtest(...).proportion_ci(method="wilson") computes (the tests
    # compare the two): importing scipy.stats would cost a refresh ≈ 1 s for these few lines
    if n <= 0:
        raise ValueError(f"a Wilson interval needs at least one trial (n = {n})")
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    centre, spread = successes + z * z / 2, z * math.sqrt(successes * (n - successes) / n + z * z / 4)
    return max(0.0, (centre - spread) / (n + z * z)), min(1.0, (centre + spread) / (n + z * z))


def newcombe(k_before: int, n_before: int, k_after: int, n_after: int,
             confidence: float = 0.95) -> tuple[float, float]:
    """Interval of p_after − p_before from the two Wilson intervals (Newcombe's method 10)."""
    p1, p2 = k_before / n_before, k_after / n_after
    l1, u1 = wilson(k_before, n_before, confidence)
    l2, u2 = wilson(k_after, n_after, confidence)
    diff = p2 - p1
    return diff - math.hypot(p2 - l2, u1 - p1), diff + math.hypot(u2 - p2, p1 - l1)


def bootstrap_difference(before: np.ndarray, after: np.ndarray, statistic: Callable[[np.ndarray], float],
                         confidence: float = 0.95, resamples: int = 2000,
                         seed: int = BOOTSTRAP_SEED) -> tuple[float, float]:
    """Percentile-bootstrap interval of statistic(after) − statistic(before); ``statistic`` is the
    metric's own aggregation (:meth:`cs_xl.metrics.Sample.statistic`)."""
    # sorted: the interval of the values, whatever the order of their records (a SQL history
    # returns a window's values in no particular order)
    before, after = np.sort(np.asarray(before, dtype=float)), np.sort(np.asarray(after, dtype=float))
    rng = np.random.default_rng(seed)
    differences = np.empty(int(resamples))
    for i in range(differences.size):
        differences[i] = (statistic(after[rng.integers(0, after.size, after.size)])
                          - statistic(before[rng.integers(0, before.size, before.size)]))
    tail = (1 - confidence) / 2
    low, high = np.quantile(differences, [tail, 1 - tail])
    return float(low), float(high)
