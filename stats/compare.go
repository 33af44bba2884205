package stats

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Alpha is the significance level of the plain-words sentences: a
// Holm-adjusted p-value below it is called a detectable difference.
const Alpha = 0.05

// FewRuns is the number of runs below which a bootstrap interval is too
// narrow to take at its word: resampled from so few values, the mean
// cannot stray far outside their own range (from 2 runs, the 95%
// interval of the mean is about their minimum to maximum, where
// Student's t would give a dozen times that width). The sentences and
// summaries say so below it.
const FewRuns = 10

// MinMannWhitneyP is the smallest two-sided p-value the exact Mann-Whitney
// U test can give for samples of n and m values: 2 / C(n+m, n), the two
// most extreme orderings of all.
func MinMannWhitneyP(n, m int) float64 {
	// C(n+m, n) as a product of ratios, in float64 (exact enough here).
	c := 1.0
	for i := 1; i <= n; i++ {
		c = c * float64(m+i) / float64(i)
	}
	return math.Min(1, 2/c)
}

// Metric names what is compared and which way is better.
type Metric struct {
	// Name as a sentence uses it, e.g. "test accuracy".
	Name           string `json:"name"`
	HigherIsBetter bool   `json:"higher_is_better"`
}

// Sample is one configuration's values of a metric, a run each (NaN for a
// run that has none: it diverged).
type Sample struct {
	Name   string
	Values []float64
}

// Comparison is one configuration against the baseline.
type Comparison struct {
	Name     string `json:"name"`
	Baseline string `json:"baseline"`
	// N and BaselineN count the finite values compared; Missing and
	// BaselineMissing the non-finite ones left out.
	N               int     `json:"n"`
	BaselineN       int     `json:"baseline_n"`
	Missing         int     `json:"missing"`
	BaselineMissing int     `json:"baseline_missing"`
	Mean            float64 `json:"mean"`
	BaselineMean    float64 `json:"baseline_mean"`
	// Diff is Mean - BaselineMean, with its BCa bootstrap interval.
	Diff     float64 `json:"diff"`
	DiffLow  float64 `json:"diff_ci_low"`
	DiffHigh float64 `json:"diff_ci_high"`
	Welch    TTest   `json:"welch"`
	// WelchHolm is Welch.P adjusted by Holm over the family of comparisons.
	WelchHolm       float64 `json:"welch_p_holm"`
	MannWhitney     UTest   `json:"mann_whitney"`
	MannWhitneyHolm float64 `json:"mann_whitney_p_holm"`
	// HedgesG is the effect size of Diff (see HedgesG).
	HedgesG float64 `json:"hedges_g"`
	// Improvement is the probability that a run of this configuration is
	// better than a run of the baseline (rliable's probability of
	// improvement; "better" follows Metric.HigherIsBetter), with its
	// percentile bootstrap interval.
	Improvement     float64 `json:"probability_of_improvement"`
	ImprovementLow  float64 `json:"improvement_ci_low"`
	ImprovementHigh float64 `json:"improvement_ci_high"`
	// Sentence says the result in plain words.
	Sentence string `json:"sentence"`
}

// Compare compares each of others with baseline on metric. Non-finite
// values are left out and counted; the order of the values does not
// matter. Holm's correction is applied over the comparisons, separately
// for Welch's and for the Mann-Whitney p-values, each over the same family:
// the comparisons with at least 2 finite values on each side (a test
// undefined there, Welch's for two constant samples, counts as not
// rejected).
func Compare(metric Metric, baseline Sample, others []Sample, b Bootstrap) []Comparison {
	base := sortedFinite(baseline.Values)
	out := make([]Comparison, len(others))
	welch := make([]float64, len(others))
	mwu := make([]float64, len(others))
	for i, o := range others {
		x := sortedFinite(o.Values)
		c := Comparison{
			Name: o.Name, Baseline: baseline.Name,
			N: len(x), BaselineN: len(base),
			Missing: len(o.Values) - len(x), BaselineMissing: len(baseline.Values) - len(base),
			Mean: Mean(x), BaselineMean: Mean(base),
			Welch: Welch(x, base), MannWhitney: MannWhitneyU(x, base),
			HedgesG: HedgesG(x, base),
		}
		c.Diff = c.Mean - c.BaselineMean
		c.DiffLow, c.DiffHigh = b.DiffCI(x, base)
		if metric.HigherIsBetter {
			c.Improvement = ProbabilityOfImprovement(x, base)
			c.ImprovementLow, c.ImprovementHigh = b.ImprovementCI(x, base)
		} else {
			nx, nb := negate(x), negate(base)
			c.Improvement = ProbabilityOfImprovement(nx, nb)
			c.ImprovementLow, c.ImprovementHigh = b.ImprovementCI(nx, nb)
		}
		if c.N < 2 || c.BaselineN < 2 {
			// Too few runs for any test: keep them out of the family.
			c.Welch.P, c.MannWhitney.P = math.NaN(), math.NaN()
		}
		welch[i], mwu[i] = c.Welch.P, c.MannWhitney.P
		out[i] = c
	}
	family := 0
	for _, c := range out {
		if c.N >= 2 && c.BaselineN >= 2 {
			family++
		}
	}
	wh, mh := holm(welch, family), holm(mwu, family)
	// The least corrected Mann-Whitney p-value each comparison's run
	// counts (and ties) allow, whatever the results: Holm's adjusted
	// p-values only grow with each raw one, so the least are those of
	// every comparison's least p-value, corrected together over the
	// same family.
	least := make([]float64, len(others))
	tied := make([]bool, len(others))
	for i, o := range others {
		least[i] = math.NaN()
		if !math.IsNaN(out[i].MannWhitney.P) {
			least[i], tied[i] = leastMannWhitneyP(sortedFinite(o.Values), base)
		}
	}
	floor := holm(least, family)
	for i := range out {
		out[i].WelchHolm, out[i].MannWhitneyHolm = wh[i], mh[i]
		out[i].Sentence = out[i].sentence(metric, family, b.Level, floor[i], tied[i])
	}
	return out
}

// leastMannWhitneyP is the least p-value MannWhitneyU can give for x and
// y's values however they fall between the two samples: that of the most
// extreme split of the pooled values, the len(x) lowest or highest
// against the rest. Without ties and with at most 8 on a side it is the
// exact test's 2 / C(n+m, n) (MinMannWhitneyP); with ties, the normal
// approximation's with these ties, which can be far from small. tied
// reports ties among the pooled values.
func leastMannWhitneyP(x, y []float64) (p float64, tied bool) {
	pool := append(slices.Clone(x), y...)
	slices.Sort(pool)
	n := len(x)
	low := MannWhitneyU(pool[:n], pool[n:]).P
	high := MannWhitneyU(pool[len(pool)-n:], pool[:len(pool)-n]).P
	_, ties := Ranks(pool)
	return math.Min(low, high), ties > 0
}

func negate(x []float64) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = -v
	}
	return out
}

// sentence says the comparison in plain words, honest about what n runs
// can and cannot show.
// mwuFloor is the least corrected Mann-Whitney p-value its run counts
// and ties allow (see leastMannWhitneyP), tied whether there are ties.
func (c Comparison) sentence(m Metric, family int, level, mwuFloor float64, tied bool) string {
	var s strings.Builder
	ns := runsOf(c.N, c.BaselineN)
	switch {
	case c.N < 2 || c.BaselineN < 2:
		fmt.Fprintf(&s, "%s against %s: too few runs to compare (%s); at least 2 finished runs of each are needed.", c.Name, c.Baseline, ns)
		return s.String() + c.missing()
	}
	pct := fmt.Sprintf("%.0f%%", level*100)
	corrected := fmt.Sprintf("Holm-corrected over %d comparisons", family)
	if family == 1 {
		corrected = "one comparison, so no correction"
	}
	if math.IsNaN(c.Welch.P) {
		// Both constant: Welch's test is undefined; the ranks still say
		// how the two sets of runs are ordered.
		if c.Diff == 0 {
			fmt.Fprintf(&s, "%s against %s: every run of both gave the same %s, %.4f; these runs show no difference at all (%s).", c.Name, c.Baseline, m.Name, c.Mean, ns)
		} else {
			fmt.Fprintf(&s, "%s against %s: every run of %s gave %s %.4f and every run of %s gave %.4f, a difference of %+.4f in each of %s; Welch's t-test is undefined without any spread (Mann-Whitney U %s; %s).", c.Name, c.Baseline, c.Name, m.Name, c.Mean, c.Baseline, c.BaselineMean, c.Diff, ns, pIs(c.MannWhitneyHolm), corrected)
		}
		return s.String() + c.missing()
	}
	tests := fmt.Sprintf("Welch's t-test %s, Mann-Whitney U %s; %s", pIs(c.WelchHolm), pIs(c.MannWhitneyHolm), corrected)
	fmt.Fprintf(&s, "%s against %s: mean %s %.4f against %.4f, a difference of %+.4f (%s CI %+.4f to %+.4f). ",
		c.Name, c.Baseline, m.Name, c.Mean, c.BaselineMean, c.Diff, pct, c.DiffLow, c.DiffHigh)
	welchSig, mwuSig := c.WelchHolm < Alpha, c.MannWhitneyHolm < Alpha
	// Each test has its own direction: Welch's the difference of means,
	// Mann-Whitney's the ranks (the probability of improvement). A few
	// runs far from the rest (collapsed to chance, say) can turn the
	// mean against most runs; then the direction said is the significant
	// test's, and where the other points the opposite way no winner is
	// named.
	meanDir, rankDir := c.meanDirection(m), c.rankDirection()
	dir := meanDir
	if mwuSig && !welchSig {
		dir = rankDir
	}
	word := "worse"
	if dir > 0 {
		word = "better"
	}
	opposite := meanDir*rankDir < 0
	zeroIn := c.DiffLow <= 0 && c.DiffHigh >= 0
	switch {
	case (welchSig || mwuSig) && opposite:
		c.opposite(&s, m, welchSig, mwuSig, tests)
	case welchSig && mwuSig && zeroIn:
		// The tests reject, but the interval of the difference holds
		// zero (runs far from the rest can do this): not established.
		fmt.Fprintf(&s, "Both tests find a difference (%s), but the interval of the difference includes zero: a tentative sign that %s is %s, not an established one. ", tests, c.Name, word)
	case welchSig && mwuSig:
		fmt.Fprintf(&s, "%s is %s (%s), with a %s effect (Hedges' g = %.2f). ", c.Name, word, tests, effectWord(c.HedgesG), c.HedgesG)
	case welchSig || mwuSig:
		fmt.Fprintf(&s, "The tests disagree (%s): a tentative sign that %s is %s, not an established one. ", tests, c.Name, word)
	case c.DiffLow > 0 || c.DiffHigh < 0:
		// The bootstrap interval leaves out zero but the tests do not
		// reject: the interval is not corrected for the other comparisons,
		// and bootstrap intervals from few runs tend to be too narrow.
		why := "bootstrap intervals from few runs tend to be too narrow"
		if family > 1 {
			why = fmt.Sprintf("that interval is not corrected for the %d comparisons, and %s", family, why)
		}
		fmt.Fprintf(&s, "No detectable difference with %s (%s), although the interval of the difference leaves out zero: %s. A hint that %s is %s, not evidence; more runs might settle it. ", ns, tests, why, c.Name, word)
	default:
		fmt.Fprintf(&s, "No detectable difference with %s (%s). This is not evidence that they are equal: differences from %+.4f to %+.4f fit these runs", ns, tests, c.DiffLow, c.DiffHigh)
		if min(c.N, c.BaselineN) < FewRuns {
			s.WriteString(", and from so few runs that bootstrap interval is too narrow: larger differences fit them too")
		}
		s.WriteString(". ")
	}
	// Say when the run counts alone (and ties) keep the difference
	// undetectable, whatever the results.
	if mwuFloor >= Alpha {
		lead := fmt.Sprintf("With %s the Mann-Whitney test", ns)
		switch {
		case tied:
			lead = fmt.Sprintf("With %s and the ties among these results the Mann-Whitney test", ns)
		case c.MannWhitney.Method == "exact":
			lead = fmt.Sprintf("With %s and no tied results the exact Mann-Whitney test", ns)
		}
		least := "its corrected p-value"
		if family == 1 {
			least = "its p-value"
		}
		floor := fmt.Sprintf("is at least %.2g", mwuFloor)
		if mwuFloor >= 1 { // Holm's correction stops at 1
			floor = "is 1"
		}
		fmt.Fprintf(&s, "%s cannot reach p < %g however the runs fall (%s %s), so no difference can be called detectable here: that takes more runs. ", lead, Alpha, least, floor)
	}
	if !math.IsNaN(c.ImprovementLow) {
		fmt.Fprintf(&s, "A run of %s beats a run of %s with probability %.2f", c.Name, c.Baseline, c.Improvement)
		switch {
		case c.ImprovementLow == c.ImprovementHigh && (c.Improvement == 0 || c.Improvement == 1):
			// Every resample gives the same: the interval cannot reach
			// beyond the runs, which is not certainty.
			who := "every run of " + c.Name + " beat every run of " + c.Baseline
			if c.Improvement == 0 {
				who = "no run of " + c.Name + " beat a run of " + c.Baseline
			}
			fmt.Fprintf(&s, " in these runs (%s; the bootstrap's %s CI, %.2f to %.2f, cannot reach beyond them and overstates the certainty).", who, pct, c.ImprovementLow, c.ImprovementHigh)
		case min(c.N, c.BaselineN) < FewRuns:
			fmt.Fprintf(&s, " (%s CI %.2f to %.2f, from so few runs that the interval is too narrow).", pct, c.ImprovementLow, c.ImprovementHigh)
		default:
			fmt.Fprintf(&s, " (%s CI %.2f to %.2f).", pct, c.ImprovementLow, c.ImprovementHigh)
		}
	}
	return strings.TrimSpace(s.String()) + c.missing()
}

// meanDirection is +1 where the difference of means favours c's
// configuration, -1 where it favours the baseline, 0 for none.
func (c Comparison) meanDirection(m Metric) int {
	switch {
	case c.Diff == 0 || math.IsNaN(c.Diff):
		return 0
	case (c.Diff > 0) == m.HigherIsBetter:
		return 1
	}
	return -1
}

// rankDirection is the same from the ranks: +1 where a run of c's
// configuration beats a run of the baseline more often than not (the
// side Mann-Whitney's U points to).
func (c Comparison) rankDirection() int {
	switch {
	case c.Improvement > 0.5:
		return 1
	case c.Improvement < 0.5:
		return -1
	}
	return 0
}

// opposite says a difference one test or both find while the mean and
// the ranks point opposite ways: which way each points, and no winner.
func (c Comparison) opposite(s *strings.Builder, m Metric, welchSig, mwuSig bool, tests string) {
	mean, ranks := "worse", "better"
	if c.meanDirection(m) > 0 {
		mean, ranks = "better", "worse"
	}
	side := fmt.Sprintf("by the difference of means %s is %s, by the ranks it is %s", c.Name, mean, ranks)
	switch {
	case welchSig && mwuSig:
		fmt.Fprintf(s, "Both tests find a difference (%s), but they point opposite ways: %s. ", tests, side)
	case mwuSig:
		fmt.Fprintf(s, "The tests disagree (%s), and point opposite ways: %s. Only Mann-Whitney's, which follows the ranks, finds a difference: a tentative sign that most runs of %s are %s, although its mean is %s. ", tests, side, c.Name, ranks, mean)
	default:
		fmt.Fprintf(s, "The tests disagree (%s), and point opposite ways: %s. Only Welch's, which follows the means, finds a difference: a tentative sign that the mean of %s is %s, although most of its runs are %s. ", tests, side, c.Name, mean, ranks)
	}
	s.WriteString("A few runs far from the rest (collapsed to chance, say) can do this: no configuration can be called the better one. ")
}

// missing names the diverged runs left out. Leaving out some of a
// configuration's runs flatters it; leaving out all of them leaves no
// statistics at all, and says so instead.
func (c Comparison) missing() string {
	var s strings.Builder
	var some []string
	for _, side := range []struct {
		name       string
		n, missing int
	}{{c.Name, c.N, c.Missing}, {c.Baseline, c.BaselineN, c.BaselineMissing}} {
		switch {
		case side.missing == 0:
		case side.n > 0:
			some = append(some, fmt.Sprintf("%d of %s", side.missing, side.name))
		case side.missing == 1:
			fmt.Fprintf(&s, " The one run of %s diverged (no finite result), so it has no statistics.", side.name)
		case side.missing == 2:
			fmt.Fprintf(&s, " Both runs of %s diverged (no finite result), so it has no statistics.", side.name)
		default:
			fmt.Fprintf(&s, " All %d runs of %s diverged (no finite result), so it has no statistics.", side.missing, side.name)
		}
	}
	switch len(some) {
	case 1:
		fmt.Fprintf(&s, " Left out: %s runs that diverged (no finite result), which makes that configuration look better than it is.", some[0])
	case 2:
		fmt.Fprintf(&s, " Left out: %s runs that diverged (no finite result), which makes each configuration look better than it is.", strings.Join(some, " and "))
	}
	return s.String()
}

func runsOf(n, nb int) string {
	switch {
	case n == 1 && nb == 1:
		return "n = 1 run each"
	case n == nb:
		return fmt.Sprintf("n = %d runs each", n)
	}
	return fmt.Sprintf("n = %d and %d runs", n, nb)
}

// effectWord is Cohen's rule of thumb for a standardised difference.
func effectWord(g float64) string {
	switch a := math.Abs(g); {
	case a < 0.2:
		return "negligible"
	case a < 0.5:
		return "small"
	case a < 0.8:
		return "medium"
	}
	return "large"
}

// P formats a p-value for a sentence: two significant digits, "< 0.001"
// below that, "n/a" when undefined.
func P(p float64) string {
	switch {
	case math.IsNaN(p):
		return "n/a"
	case p < 0.001:
		return "< 0.001"
	}
	return fmt.Sprintf("%.2g", p)
}

// pIs says a p-value in a sentence: "p = 0.24", "p < 0.001" (not "p = <
// 0.001").
func pIs(p float64) string {
	s := P(p)
	if strings.HasPrefix(s, "<") {
		return "p " + s
	}
	return "p = " + s
}

// Position is where one run falls among all the runs of its configuration.
type Position struct {
	Value float64 `json:"value"`
	// Rank is 1 for the best run; tied runs share the better rank.
	Rank int `json:"rank"`
	N    int `json:"n"`
	// Percentile is scipy.stats.percentileofscore(values, Value) (kind
	// "rank"): the run's rank from the bottom as a percentage of N, tied
	// runs given their average rank, on the metric's own scale (high is
	// high, whichever way is better).
	Percentile float64 `json:"percentile"`
	Sentence   string  `json:"sentence"`
}

// Locate places v (the named run's value, e.g. seed 42's) among the
// finite values of x, which include it. label names the run in the
// sentence, e.g. "seed 42".
func Locate(m Metric, x []float64, v float64, label string) Position {
	f := Finite(x)
	p := Position{Value: v, N: len(f), Percentile: PercentileOfScore(f, v), Rank: 1}
	for _, a := range f {
		if (m.HigherIsBetter && a > v) || (!m.HigherIsBetter && a < v) {
			p.Rank++
		}
	}
	if math.IsNaN(v) || len(f) == 0 {
		p.Rank = 0
		p.Sentence = fmt.Sprintf("%s has no %s (it diverged or is missing).", label, m.Name)
		return p
	}
	// The others: every value but one copy of v.
	others := slices.Clone(f)
	if i := slices.Index(others, v); i >= 0 {
		others = slices.Delete(others, i, i+1)
	}
	if len(others) == 0 {
		p.Sentence = fmt.Sprintf("%s's %s, %.4f, is the configuration's only finished run: nothing to place it among.", label, m.Name, v)
		return p
	}
	lo, hi := slices.Min(others), slices.Max(others)
	p.Sentence = fmt.Sprintf("%s's %s, %.4f, ranks %d of %d runs (1 = best; percentile %.0f); the same configuration with other seeds gave %.4f to %.4f, so a single run says little about the configuration.",
		label, m.Name, v, p.Rank, p.N, p.Percentile, lo, hi)
	return p
}
