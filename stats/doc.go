// Package stats holds the statistics of an experiment: many runs of a few
// configurations, each run giving one number (its test accuracy, say).
//
// Every function is a pure function of []float64 and says how it computes
// its figure; the tests check each one against scipy (Debian's
// python3-scipy, run live) on fixed inputs and against small hand-worked
// cases. The conventions follow numpy and scipy so that a user can check
// any figure in a Python session:
//
//   - standard deviation with ddof = 1 (the sample standard deviation);
//   - quantiles, the median and the interquartile range by numpy's default
//     "linear" method (Hyndman and Fan's type 7);
//   - confidence intervals by the bias-corrected and accelerated (BCa)
//     bootstrap, scipy.stats.bootstrap's default, with a fixed number of
//     resamples and a fixed seed, so the same runs give the same interval;
//   - Welch's t-test as scipy.stats.ttest_ind(x, y, equal_var=False);
//   - the Mann-Whitney U test as scipy.stats.mannwhitneyu(x, y), two-sided,
//     with its default method choice;
//   - Holm's step-down correction over a family of p-values;
//   - Hedges' g with the exact small-sample correction;
//   - the probability of improvement as the rliable library defines it,
//     P(X > Y) + 0.5 P(X = Y), with a percentile bootstrap interval.
//
// Non-finite values (a run that diverged has no test accuracy) are never
// silently averaged: the low-level functions return NaN when given one, as
// scipy does by default, and Describe and Compare leave such runs out and
// count them, so that a report can name them.
package stats
