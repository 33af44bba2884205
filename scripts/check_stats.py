#!/usr/bin/python3
"""Recompute an experiment's statistics with numpy and scipy and compare.

Usage: /usr/bin/python3 scripts/check_stats.py FILE.json

FILE.json is experiment.json (or any JSON holding the statistics object that
cifarnet's report.WriteExperiment returns: "configurations", "comparisons",
"bootstrap"). Every figure is recomputed from the runs' own numbers listed in
it ("results" of each configuration): exactly where the method is exact
(means, standard deviations, quantiles, Welch, Mann-Whitney U, Holm, Hedges'
g, probability of improvement, percentile of the named seed), and within
Monte Carlo error for the bootstrap intervals, which scipy draws from its own
random resamples. Prints one line per check; exits 1 if any fails.
Needs Debian's python3-scipy (scipy 1.10).
"""
import json
import math
import sys

import numpy as np
from scipy import stats
from scipy.special import gammaln

failures = 0


def check(what, ours, want, tol):
    global failures
    ours = math.nan if ours is None else float(ours)
    want = math.nan if want is None else float(want)
    ok = (math.isnan(ours) and math.isnan(want)) or (
        not math.isnan(ours) and not math.isnan(want) and abs(ours - want) <= tol * max(1.0, abs(want)))
    if not ok:
        failures += 1
    print(f"{'ok      ' if ok else 'MISMATCH'} {what}: cifarnet {ours:.10g}, numpy/scipy {want:.10g}")


def find(obj):
    """The statistics object anywhere in the JSON."""
    if isinstance(obj, dict):
        if {"configurations", "comparisons", "bootstrap"} <= obj.keys():
            return obj
        obj = list(obj.values())
    if isinstance(obj, list):
        for v in obj:
            found = find(v)
            if found is not None:
                return found
    return None


def finite(results, key):
    return np.array([r[key] for r in results if r[key] is not None and math.isfinite(r[key])], dtype=float)


def bootstrap_ci(data, statistic, boot, name):
    """scipy's BCa interval and its standard error, for a tolerance; None
    where a Monte Carlo comparison says nothing: fewer than 10 runs (the
    bootstrap distribution is then so discrete that an interval's end jumps
    between values; stats/'s tests check those exactly against scipy's BCa
    routine instead) or no spread."""
    if any(len(d) < 10 for d in data) or all(np.all(d == d[0]) for d in data):
        print(f"skipped  {name}: bootstrap interval (fewer than 10 runs or no spread)")
        return None
    res = stats.bootstrap(data, statistic, n_resamples=boot["resamples"], confidence_level=boot["level"],
                          method="BCa", random_state=np.random.default_rng(0))
    return res.confidence_interval.low, res.confidence_interval.high, res.standard_error


def summary(name, s, x, boot):
    check(f"{name} n", s["n"], len(x), 0)
    if len(x) == 0:
        return
    check(f"{name} mean", s["mean"], np.mean(x), 1e-12)
    check(f"{name} sd", s["sd"], np.std(x, ddof=1) if len(x) > 1 else None, 1e-10)
    check(f"{name} median", s["median"], np.median(x), 1e-12)
    check(f"{name} q1", s["q1"], np.quantile(x, 0.25), 1e-12)
    check(f"{name} q3", s["q3"], np.quantile(x, 0.75), 1e-12)
    check(f"{name} min", s["min"], np.min(x), 0)
    check(f"{name} max", s["max"], np.max(x), 0)
    ci = bootstrap_ci((x,), lambda v, axis: np.mean(v, axis=axis), boot, name)
    if ci is not None:
        # Monte Carlo error: both draw their own resamples.
        tol = 0.25 * ci[2]
        check(f"{name} CI low (BCa, within {tol:.2g})", s["ci_low"], ci[0], tol)
        check(f"{name} CI high (BCa, within {tol:.2g})", s["ci_high"], ci[1], tol)


def holm(ps):
    """Holm over the family: the comparisons with at least 2 runs on each
    side (None marks the others); a test undefined within it (NaN) counts as
    not rejected."""
    family = sum(p is not None for p in ps)
    idx = [i for i, p in enumerate(ps) if p is not None and math.isfinite(p)]
    out = [math.nan] * len(ps)
    running = 0.0
    for j, i in enumerate(sorted(idx, key=lambda i: ps[i])):
        running = max(running, min(1.0, (family - j) * ps[i]))
        out[i] = running
    return out


def main():
    st = find(json.load(open(sys.argv[1])))
    if st is None:
        sys.exit(f"{sys.argv[1]}: no experiment statistics (configurations, comparisons, bootstrap) in it")
    boot = st["bootstrap"]
    acc = {}
    for c in st["configurations"]:
        name = c["config"]
        x = finite(c["results"], "test_accuracy")
        acc[name] = x
        check(f"{name}: runs without a finite test accuracy", c["test_accuracy"]["missing"],
              len(c["results"]) - len(x), 0)
        summary(f"{name}: test accuracy", c["test_accuracy"], x, boot)
        summary(f"{name}: test loss", c["test_loss"], finite(c["results"], "test_loss"), boot)
        summary(f"{name}: epochs run", c["epochs_run"], finite(c["results"], "epochs_run"), boot)
        if c.get("named_seed"):
            p = c["named_seed"]
            check(f"{name}: named run's percentile", p["percentile"], stats.percentileofscore(x, p["value"]), 1e-12)
            check(f"{name}: named run's rank", p["rank"], 1 + np.sum(x > p["value"]), 0)
    y = acc[st["baseline"]]
    welch_p, mwu_p = [], []
    for c in st["comparisons"]:
        name = f"{c['name']} against {c['baseline']}"
        x = acc[c["name"]]
        if len(x) < 2 or len(y) < 2:
            welch_p.append(None)
            mwu_p.append(None)
            continue
        check(f"{name}: difference of means", c["diff"], np.mean(x) - np.mean(y), 1e-12)
        t = stats.ttest_ind(x, y, equal_var=False)
        if math.isfinite(t.statistic):  # scipy's t is +-inf for two constant samples; cifarnet's null
            check(f"{name}: Welch t", c["welch"]["t"], t.statistic, 1e-10)
        check(f"{name}: Welch p", c["welch"]["p"], t.pvalue, 1e-9)
        u = stats.mannwhitneyu(x, y)
        check(f"{name}: Mann-Whitney U", c["mann_whitney"]["u"], u.statistic, 0)
        check(f"{name}: Mann-Whitney p", c["mann_whitney"]["p"], u.pvalue, 1e-9)
        welch_p.append(t.pvalue)  # NaN for two constant samples: in the family, not rejected
        mwu_p.append(u.pvalue)
        df = len(x) + len(y) - 2
        pooled = math.sqrt(((len(x) - 1) * np.var(x, ddof=1) + (len(y) - 1) * np.var(y, ddof=1)) / df)
        if pooled > 0:
            j = math.exp(gammaln(df / 2) - gammaln((df - 1) / 2)) / math.sqrt(df / 2)
            check(f"{name}: Hedges' g", c["hedges_g"], (np.mean(x) - np.mean(y)) / pooled * j, 1e-10)
        poi = 0.5 if np.array_equal(x, y) else stats.mannwhitneyu(x, y, alternative="greater").statistic / (len(x) * len(y))
        check(f"{name}: probability of improvement (rliable)", c["probability_of_improvement"], poi, 1e-12)
        ci = bootstrap_ci((x, y), lambda a, b, axis: np.mean(a, axis=axis) - np.mean(b, axis=axis), boot, name)
        if ci is not None:
            tol = 0.25 * ci[2]
            check(f"{name}: difference CI low (BCa, within {tol:.2g})", c["diff_ci_low"], ci[0], tol)
            check(f"{name}: difference CI high (BCa, within {tol:.2g})", c["diff_ci_high"], ci[1], tol)
    for c, w, m in zip(st["comparisons"], holm(welch_p), holm(mwu_p)):
        check(f"{c['name']}: Welch p, Holm-corrected", c["welch_p_holm"], w, 1e-9)
        check(f"{c['name']}: Mann-Whitney p, Holm-corrected", c["mann_whitney_p_holm"], m, 1e-9)
    print(f"{failures} mismatches")
    sys.exit(1 if failures else 0)


main()
