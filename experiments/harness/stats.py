"""Statistics for the summaries: median, range, a confidence interval.

The interval is distribution-free (no normality assumed, which timings on a
noisy VM never satisfy): the order statistics x(j), x(k) that bracket the
median with probability >= 95% under the binomial(n, 1/2) law. With fewer
than 6 samples no pair reaches 95%, and the interval is the whole range.
"""

from math import comb


def median(xs):
    s = sorted(xs)
    n = len(s)
    if n == 0:
        raise ValueError("median of nothing")
    mid = n // 2
    return s[mid] if n % 2 else (s[mid - 1] + s[mid]) / 2


def median_ci(xs, level=0.95):
    """(lo, hi): the narrowest symmetric order-statistic interval of the median."""
    s = sorted(xs)
    n = len(s)
    if n == 0:
        raise ValueError("interval of nothing")
    # P(x(j) <= M <= x(n-j+1)) = 1 - 2 * P(Binomial(n, 1/2) < j)
    best = (s[0], s[-1])
    below = 0.0
    for j in range(1, n // 2 + 1):
        below += comb(n, j - 1) / 2 ** n  # P(B = j - 1), accumulated: P(B < j)
        if 1 - 2 * below >= level:
            best = (s[j - 1], s[n - j])
        else:
            break
    return best


def summarize(xs):
    """dict: n, median, min, max, ci_lo, ci_hi."""
    lo, hi = median_ci(xs)
    return {"n": len(xs), "median": median(xs), "min": min(xs), "max": max(xs),
            "ci_lo": lo, "ci_hi": hi}
