"""Significance tests of one group against the rest, as plain results (客群差异).

* :func:`durations` — Mann-Whitney U (two-sided) on two samples of minutes: response and
  resolution times are skewed (log-normal), so a rank test, not a t-test; effect size the
  rank-biserial correlation r = 2·U/(n₁·n₂) − 1 (+1: every value of the group above every
  value of the rest, 0: no tendency).
* :func:`proportions` — two-proportion z test (pooled standard error, two-sided) on
  successes / trials; effect size Cohen's h = 2·asin√p₁ − 2·asin√p₂.

Both conventions of effect size are "small" from about 0.1–0.2 and "medium" from 0.3–0.5;
the 参数 threshold (``segment_min_effect``) decides from which size a gap is worth a line.

>>> t = durations([5, 6, 7, 8], [1, 2, 3, 4])
>>> t.effect, round(t.p, 4)
(1.0, 0.0286)
>>> t = proportions(30, 100, 50, 100)
>>> round(t.difference, 2), round(t.p, 4), round(t.effect, 3)
(-0.2, 0.0039, -0.412)
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class GroupTest:
    """A group against the rest: the test's statistic and p-value, and the effect size."""
    test: str            # "mann_whitney" | "two_proportion_z"
    statistic: float     # U of the group, or z
    p: float             # two-sided
    effect: float        # rank-biserial r, or Cohen's h (signed: group − rest)
    difference: float    # difference of means (durations) or of proportions (rates)


def _clean(values) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    return x[~np.isnan(x)]


def durations(group, rest, counts: tuple[np.ndarray, np.ndarray] | None = None) -> GroupTest | None:
    """Mann-Whitney U of ``group`` against ``rest`` (NaN left out); None when either is empty.
    ``counts``: their :func:`value_counts`, when the caller has them already."""
    a, b = _clean(group), _clean(rest)
    if not a.size or not b.size:
        return None
    if min(a.size, b.size) <= SMALL:  # scipy may take the exact distribution: its own test
        from scipy import stats  # imported here only: scipy.stats costs a refresh ≈ 1 s to import
        u, p = stats.mannwhitneyu(a, b, alternative="two-sided")
        return GroupTest("mann_whitney", float(u), float(p), float(2 * u / (a.size * b.size) - 1),
                         float(a.mean() - b.mean()))
    return rank_test(*(value_counts(a, b) if counts is None else counts), float(a.mean() - b.mean()))


def value_counts(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How many values of ``a`` and of ``b`` each distinct value of both has, values ascending.

    One sort of both and a search of ``a`` (the segment, the smaller side) in the distinct values:
    ``np.unique(..., return_inverse=True)`` took twice as long, and 客群差异 tests every segment's
    minutes against the other 100k records.

    >>> [c.tolist() for c in value_counts(np.array([2.0, 1.0, 2.0]), np.array([3.0, 2.0]))]
    [[1, 2, 0], [0, 1, 1]]
    """
    both = np.sort(np.concatenate([a, b]))
    starts = np.flatnonzero(np.concatenate(([True], both[1:] != both[:-1])))  # first of each distinct value
    in_a = np.bincount(np.searchsorted(both[starts], a), minlength=starts.size)
    return in_a, np.diff(starts, append=both.size) - in_a


SMALL = 8  # scipy's mannwhitneyu is exact (no ties) while a side has at most this many values


def durations_of_counts(values, in_group, in_rest) -> GroupTest | None:
    """:func:`durations` of the ascending distinct ``values`` counted ``in_group`` / ``in_rest``
    times (a SQL history's ``GROUP BY value``); a side of at most :data:`SMALL` values is
    spelled out for scipy's exact test."""
    values, in_group, in_rest = (np.asarray(x) for x in (values, in_group, in_rest))
    n1, n2 = int(in_group.sum()), int(in_rest.sum())
    if min(n1, n2) <= SMALL:
        return durations(np.repeat(values, in_group), np.repeat(values, in_rest)) if min(n1, n2) else None
    return rank_test(in_group, in_rest, float(np.dot(values, in_group) / n1 - np.dot(values, in_rest) / n2))


def rank_test(in_group, in_rest, difference: float) -> GroupTest:
    """Mann-Whitney U from how many values of each side each distinct value has (ascending values;
    more than :data:`SMALL` on either side): scipy's asymptotic test — mid-ranks for ties, the tie
    correction of the variance, the continuity correction — on counts, so a SQL history needs
    only ``GROUP BY value`` (客群差异 of ``refresh --data``).  ``difference``: of the means.

    >>> t = rank_test(np.array([0, 0, 5, 5]), np.array([5, 5, 0, 0]), 2.0)  # scipy: U = 100, p = 0.000114
    >>> t.statistic, t.effect, round(t.p, 6)
    (100.0, 1.0, 0.000114)
    """
    in_group, in_rest = np.asarray(in_group, dtype=float), np.asarray(in_rest, dtype=float)
    n1, n2 = float(in_group.sum()), float(in_rest.sum())
    n = n1 + n2
    ties = in_group + in_rest
    mid_ranks = np.cumsum(ties) - (ties - 1) / 2
    u1 = float(np.dot(in_group, mid_ranks)) - n1 * (n1 + 1) / 2
    spread = math.sqrt(n1 * n2 / 12 * ((n + 1) - float(np.sum(ties ** 3 - ties)) / (n * (n - 1))))
    z = (max(u1, n1 * n2 - u1) - n1 * n2 / 2 - 0.5) / spread if spread else math.inf
    p = min(1.0, max(0.0, _two_sided(z))) if spread else 1.0
    return GroupTest("mann_whitney", u1, p, float(2 * u1 / (n1 * n2) - 1), difference)


def _two_sided(z: float) -> float:
    """2 · P(Z > z) for a standard normal Z (z ≥ 0): scipy's 2·norm.sf(z), by math.erfc.

    >>> round(_two_sided(1.959963984540054), 12)
    0.05
    """
    return math.erfc(z / math.sqrt(2))


def cohens_h(p1: float, p2: float) -> float:
    """2·asin√p₁ − 2·asin√p₂.

    >>> round(cohens_h(0.5, 0.3), 3)
    0.412
    """
    return 2 * math.asin(math.sqrt(p1)) - 2 * math.asin(math.sqrt(p2))


def proportions(x1: int, n1: int, x2: int, n2: int) -> GroupTest | None:
    """Two-proportion z test of x₁/n₁ against x₂/n₂ (pooled); None without trials on either side.
    When every trial succeeds (or none does) the proportions cannot differ: z = 0, p = 1."""
    if n1 <= 0 or n2 <= 0:
        return None
    p1, p2 = x1 / n1, x2 / n2
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    z = 0.0 if se == 0 else (p1 - p2) / se
    return GroupTest("two_proportion_z", z, _two_sided(abs(z)), cohens_h(p1, p2), p1 - p2)
