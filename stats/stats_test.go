package stats

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// samples are the fixed inputs checked against scipy: small and large,
// with and without ties, constant, of one value, and accuracy-like values
// on a 1/1000 grid (a test set of 1000 images), where ties are common.
func samples() map[string][]float64 {
	r := rand.New(rand.NewPCG(7, 7))
	acc := func(n int, mean float64) []float64 {
		x := make([]float64, n)
		for i := range x {
			x[i] = math.Round((mean+0.03*r.NormFloat64())*1000) / 1000
		}
		return x
	}
	normal := func(n int, mean, sd float64) []float64 {
		x := make([]float64, n)
		for i := range x {
			x[i] = mean + sd*r.NormFloat64()
		}
		return x
	}
	return map[string][]float64{
		"one":       {0.36},
		"two":       {0.31, 0.35},
		"three":     {0.2, 0.5, 0.3},
		"five":      {19, 22, 16, 29, 24},
		"four":      {20, 11, 17, 12},
		"const":     {0.35, 0.35, 0.35, 0.35},
		"const2":    {0.4, 0.4, 0.4},
		"ties":      {1, 2, 2, 3, 3, 3, 4, 5},
		"acc30a":    acc(30, 0.36),
		"acc30b":    acc(30, 0.38),
		"acc30c":    acc(30, 0.361),
		"acc10":     acc(10, 0.35),
		"acc7":      normal(7, 0.35, 0.02),
		"acc8":      normal(8, 0.37, 0.02),
		"skew":      {0.1, 0.11, 0.12, 0.13, 0.5, 0.52, 0.9, 0.11, 0.115},
		"big":       normal(200, 0, 1),
		"exactbig":  normal(60, 0.5, 1),
		"exactfive": normal(5, 0, 1),
	}
}

type pair struct{ X, Y string }

// pairs are the comparisons checked against scipy.
var pairs = []pair{
	{"five", "four"}, {"four", "five"}, {"three", "two"}, {"acc30a", "acc30b"}, {"acc30b", "acc30a"},
	{"acc30a", "acc30c"}, {"acc10", "acc30a"}, {"acc7", "acc8"}, {"ties", "five"}, {"skew", "acc10"},
	{"exactfive", "exactbig"}, {"exactbig", "exactfive"}, {"acc8", "exactbig"}, {"big", "acc30a"}, {"one", "five"},
	{"five", "one"}, {"const", "acc30a"}, {"ties", "ties"}, {"const", "const"}, {"acc7", "acc7"},
}

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.IsNaN(want) != math.IsNaN(got) || !math.IsNaN(want) && math.Abs(got-want) > tol*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %.17g, want %.17g (tolerance %g)", what, got, want, tol)
	}
}

func orNaN(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

func TestDescribeAgainstNumpy(t *testing.T) {
	s := samples()
	var want map[string]struct {
		Mean, SD, Median, Q1, Q3, Q10, Min, Max *float64
	}
	scipy(t, `
out = {}
for k, x in data.items():
    x = np.array(x)
    out[k] = dict(Mean=nn(np.mean(x)), SD=nn(np.std(x, ddof=1)) if len(x) > 1 else None,
        Median=nn(np.median(x)), Q1=nn(np.quantile(x, 0.25)), Q3=nn(np.quantile(x, 0.75)),
        Q10=nn(np.quantile(x, 0.1)), Min=nn(x.min()), Max=nn(x.max()))
print(json.dumps(out))`, s, &want)
	for k, x := range s {
		w := want[k]
		d := Describe(x, DefaultBootstrap)
		near(t, k+" mean", d.Mean, orNaN(w.Mean), 1e-13)
		near(t, k+" sd", d.SD, orNaN(w.SD), 1e-12)
		near(t, k+" median", d.Median, orNaN(w.Median), 1e-13)
		near(t, k+" q1", d.Q1, orNaN(w.Q1), 1e-13)
		near(t, k+" q3", d.Q3, orNaN(w.Q3), 1e-13)
		near(t, k+" q10", Quantile(x, 0.1), orNaN(w.Q10), 1e-13)
		near(t, k+" min", d.Min, orNaN(w.Min), 0)
		near(t, k+" max", d.Max, orNaN(w.Max), 0)
		if d.N != len(x) || d.Missing != 0 {
			t.Errorf("%s: n %d missing %d, want %d 0", k, d.N, d.Missing, len(x))
		}
	}
}

func TestTestsAgainstScipy(t *testing.T) {
	s := samples()
	type in struct{ X, Y []float64 }
	var ins []in
	for _, p := range pairs {
		ins = append(ins, in{s[p.X], s[p.Y]})
	}
	var want []struct {
		T, DF, P, U, UP, POI, Pct *float64
		Method                    string
	}
	scipy(t, `
import warnings
warnings.simplefilter("ignore")
from scipy.stats._mannwhitneyu import _mwu_choose_method
out = []
for d in data:
    x, y = np.array(d["X"]), np.array(d["Y"])
    r = dict(T=None, DF=None, P=None)
    if len(x) > 1 and len(y) > 1:
        w = stats.ttest_ind(x, y, equal_var=False)
        r["T"], r["P"] = nn(w.statistic), nn(w.pvalue)
        vx, vy = x.var(ddof=1)/len(x), y.var(ddof=1)/len(y)
        r["DF"] = nn((vx+vy)**2/(vx**2/(len(x)-1) + vy**2/(len(y)-1))) if vx+vy > 0 else None
    u = stats.mannwhitneyu(x, y)
    r["U"], r["UP"] = nn(u.statistic), nn(u.pvalue)
    r["Method"] = _mwu_choose_method(len(x), len(y), np.concatenate([x, y]), "auto")
    # rliable's probability_of_improvement for one task
    r["POI"] = 0.5 if np.array_equal(x, y) else float(stats.mannwhitneyu(x, y, alternative="greater").statistic / (len(x)*len(y)))
    r["Pct"] = nn(stats.percentileofscore(x, y[0]))
    out.append(r)
print(json.dumps(out))`, ins, &want)
	for i, p := range pairs {
		name := p.X + " vs " + p.Y
		x, y := ins[i].X, ins[i].Y
		w := want[i]
		tt := Welch(x, y)
		near(t, name+" welch t", tt.T, orNaN(w.T), 1e-12)
		near(t, name+" welch df", tt.DF, orNaN(w.DF), 1e-12)
		near(t, name+" welch p", tt.P, orNaN(w.P), 1e-10)
		u := MannWhitneyU(x, y)
		near(t, name+" U", u.U, orNaN(w.U), 0)
		near(t, name+" U p", u.P, orNaN(w.UP), 1e-12)
		if u.Method != w.Method {
			t.Errorf("%s: method %s, scipy chose %s", name, u.Method, w.Method)
		}
		near(t, name+" probability of improvement", ProbabilityOfImprovement(x, y), orNaN(w.POI), 1e-15)
		near(t, name+" percentile of score", PercentileOfScore(x, y[0]), orNaN(w.Pct), 1e-12)
	}
}

// TestBootstrapAgainstScipy checks the BCa interval twice. First its
// computation, by giving scipy's own BCa routine (_bca_interval) our
// bootstrap replicates: the quantile levels must agree closely (not to the
// last bit: z0 counts the replicates equal to the estimate, and scipy's
// mean sums in another order, which moves a tied replicate by an ulp) and
// so must the interval. Then the whole, against scipy.stats.bootstrap's
// interval from its own random resamples, which can differ only by Monte
// Carlo error (checked on samples large enough for that error to be small).
func TestBootstrapAgainstScipy(t *testing.T) {
	s := samples()
	b := DefaultBootstrap
	cases := []struct {
		X, Y       string
		monteCarlo bool
	}{
		{"acc30a", "", true}, {"ties", "", true}, {"acc30a", "acc30b", true}, {"acc7", "acc8", true},
		{"skew", "", false}, {"three", "", false}, {"skew", "two", false},
	}
	type in struct {
		X, Y       []float64
		Replicates []float64
	}
	type levels struct{ A1, A2, Lo, Hi float64 }
	var ins []in
	var got []levels
	for _, c := range cases {
		samples := [][]float64{s[c.X]}
		stat := func(v [][]float64) float64 { return Mean(v[0]) }
		if c.Y != "" {
			samples = append(samples, s[c.Y])
			stat = func(v [][]float64) float64 { return Mean(v[0]) - Mean(v[1]) }
		}
		samples = sortedCopies(samples) // as the intervals draw them
		reps := b.replicates(samples, stat)
		a1, a2 := bcaLevels(samples, stat, stat(samples), reps, b.Level)
		got = append(got, levels{a1, a2, Quantile(reps, a1), Quantile(reps, a2)})
		in := in{X: samples[0], Replicates: reps}
		if c.Y != "" {
			in.Y = samples[1]
		}
		ins = append(ins, in)
	}
	var want []struct{ A1, A2, Lo, Hi, ScipyLo, ScipyHi, SD float64 }
	scipy(t, `
from scipy.stats._resampling import _bca_interval, _percentile_along_axis
out = []
for d in data:
    data_ = (np.array(d["X"]),) if d["Y"] is None else (np.array(d["X"]), np.array(d["Y"]))
    if len(data_) == 1:
        stat = lambda x, axis=-1: np.mean(x, axis=axis)
    else:
        stat = lambda x, y, axis=-1: np.mean(x, axis=axis) - np.mean(y, axis=axis)
    reps = np.array(d["Replicates"])
    a1, a2, _ = _bca_interval(data_, stat, axis=-1, alpha=0.025, theta_hat_b=reps, batch=None)
    lo = float(_percentile_along_axis(reps, a1*100))
    hi = float(_percentile_along_axis(reps, a2*100))
    r = stats.bootstrap(data_, stat, n_resamples=20000, method="BCa", random_state=np.random.default_rng(5))
    out.append(dict(A1=float(a1), A2=float(a2), Lo=lo, Hi=hi, ScipyLo=float(r.confidence_interval.low), ScipyHi=float(r.confidence_interval.high), SD=float(np.std(reps))))
print(json.dumps(out))`, ins, &want)
	for i, c := range cases {
		name := c.X
		var lo, hi float64
		if c.Y == "" {
			lo, hi = b.MeanCI(s[c.X])
		} else {
			name += " - " + c.Y
			lo, hi = b.DiffCI(s[c.X], s[c.Y])
		}
		w, g := want[i], got[i]
		if lo != g.Lo || hi != g.Hi {
			t.Errorf("%s: interval [%g, %g], from its own levels [%g, %g]", name, lo, hi, g.Lo, g.Hi)
		}
		near(t, name+" BCa level low", g.A1, w.A1, 1e-3)
		near(t, name+" BCa level high", g.A2, w.A2, 1e-3)
		near(t, name+" BCa low", g.Lo, w.Lo, 0.01*w.SD)
		near(t, name+" BCa high", g.Hi, w.Hi, 0.01*w.SD)
		if !c.monteCarlo {
			continue
		}
		// Monte Carlo error of an end of the interval, 10000 and 20000
		// resamples: about 0.06 of the replicates' standard deviation
		// (measured over scipy seeds); four times that.
		tol := 0.25 * w.SD
		if math.Abs(lo-w.ScipyLo) > tol || math.Abs(hi-w.ScipyHi) > tol {
			t.Errorf("%s: BCa interval [%g, %g], scipy.stats.bootstrap [%g, %g] (more than %g apart)", name, lo, hi, w.ScipyLo, w.ScipyHi, tol)
		}
	}
}

func TestHolmHandWorked(t *testing.T) {
	// p = 0.01, 0.04, 0.03, 0.005: sorted 0.005, 0.01, 0.03, 0.04 times
	// 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04, made monotone: 0.02, 0.03,
	// 0.06, 0.06.
	got := Holm([]float64{0.01, 0.04, 0.03, 0.005})
	want := []float64{0.03, 0.06, 0.06, 0.02}
	for i := range want {
		near(t, "holm", got[i], want[i], 1e-15)
	}
	// NaN is kept and not counted: m = 2; 0.3*2 = 0.6 and 0.8 capped... 0.8*1.
	got = Holm([]float64{0.8, math.NaN(), 0.3})
	near(t, "holm nan 0", got[0], 0.8, 1e-15)
	near(t, "holm nan 1", got[1], math.NaN(), 0)
	near(t, "holm nan 2", got[2], 0.6, 1e-15)
	// Capped at 1.
	got = Holm([]float64{0.6, 0.7})
	near(t, "holm cap", got[0], 1, 0)
	near(t, "holm cap", got[1], 1, 0)
	if len(Holm(nil)) != 0 {
		t.Error("Holm(nil) not empty")
	}
}

func TestHedgesGHandWorked(t *testing.T) {
	// x = 1,2,3 (mean 2, var 1); y = 3,4,5 (mean 4, var 1): pooled sd 1,
	// d = -2, df = 4, J = Gamma(2) / (sqrt(2) Gamma(1.5)) = 1 / (sqrt(2)
	// sqrt(pi)/2) = 0.7978845608.
	g := HedgesG([]float64{1, 2, 3}, []float64{3, 4, 5})
	near(t, "g", g, -2*2/math.Sqrt(2*math.Pi), 1e-14)
	near(t, "g constant", HedgesG([]float64{1, 1}, []float64{2, 2}), math.NaN(), 0)
	near(t, "g one run", HedgesG([]float64{1}, []float64{2, 3}), math.NaN(), 0)
}

func TestHandWorkedSmallCases(t *testing.T) {
	// Mann-Whitney exact, the example of scipy's documentation: U = 17,
	// p = 2 * 7/126 = 0.1111: by symmetry P(U >= 17) = P(U <= 3), and the
	// arrangements of 5 and 4 values with U = 0, 1, 2, 3 number 1, 1, 2, 3
	// (the partitions of U into at most 5 parts of at most 4) of C(9,4) =
	// 126.
	u := MannWhitneyU([]float64{19, 22, 16, 29, 24}, []float64{20, 11, 17, 12})
	near(t, "U", u.U, 17, 0)
	near(t, "U p", u.P, 2*7.0/126, 1e-15)
	// Fully separated samples of 3 and 3: one of C(6,3) = 20 arrangements
	// at each end, p = 2/20.
	u = MannWhitneyU([]float64{4, 5, 6}, []float64{1, 2, 3})
	near(t, "U separated", u.P, 0.1, 1e-15)
	// Probability of improvement: x = {1, 3}, y = {2, 3}: pairs (1,2) loss,
	// (1,3) loss, (3,2) win, (3,3) tie: (1 + 0.5) / 4.
	near(t, "poi", ProbabilityOfImprovement([]float64{1, 3}, []float64{2, 3}), 0.375, 0)
	// Quantile of 1,2,3,4 at 0.25: h = 0.75, 1 + 0.75 = 1.75.
	near(t, "quantile", Quantile([]float64{4, 1, 3, 2}, 0.25), 1.75, 0)
	// Welch with equal variances and sizes: x = 1,2,3 and 3,4,5: t =
	// -2 / sqrt(1/3 + 1/3) = -sqrt(6), df = 4.
	w := Welch([]float64{1, 2, 3}, []float64{3, 4, 5})
	near(t, "welch t", w.T, -math.Sqrt(6), 1e-14)
	near(t, "welch df", w.DF, 4, 1e-14)
}

func TestEdgeCases(t *testing.T) {
	b := DefaultBootstrap
	nan := math.NaN()
	// One run: a mean but no spread and no interval.
	d := Describe([]float64{0.4}, b)
	if d.Mean != 0.4 || !math.IsNaN(d.SD) || !math.IsNaN(d.CILow) || d.Median != 0.4 || d.Min != 0.4 {
		t.Errorf("one run: %+v", d)
	}
	// Identical runs: zero spread, a degenerate interval.
	d = Describe([]float64{0.4, 0.4, 0.4}, b)
	if d.SD != 0 || d.CILow != d.Mean || d.CIHigh != d.Mean || math.Abs(d.Mean-0.4) > 1e-15 {
		t.Errorf("identical runs: %+v", d)
	}
	// A diverged run is left out and counted, never averaged.
	d = Describe([]float64{0.3, nan, 0.5, math.Inf(1)}, b)
	if d.N != 2 || d.Missing != 2 || d.Mean != 0.4 {
		t.Errorf("diverged runs: %+v", d)
	}
	// All diverged: NaN figures.
	d = Describe([]float64{nan, nan}, b)
	if d.N != 0 || d.Missing != 2 || !math.IsNaN(d.Mean) || !math.IsNaN(d.Max) {
		t.Errorf("all diverged: %+v", d)
	}
	// The low-level functions propagate a NaN, as scipy does by default.
	if !math.IsNaN(Welch([]float64{1, nan, 2}, []float64{1, 2}).P) || !math.IsNaN(MannWhitneyU([]float64{nan}, []float64{1}).P) ||
		!math.IsNaN(Quantile([]float64{1, nan}, 0.5)) || !math.IsNaN(ProbabilityOfImprovement([]float64{nan}, []float64{1})) {
		t.Error("a NaN input did not give NaN")
	}
	// Constant samples: Welch is undefined (scipy: nan), Mann-Whitney gives
	// p = 1 with all values tied.
	if w := Welch([]float64{1, 1}, []float64{1, 1}); !math.IsNaN(w.P) {
		t.Errorf("welch on constants: %+v", w)
	}
	if u := MannWhitneyU([]float64{1, 1}, []float64{1, 1}); u.P != 1 || u.U != 2 {
		t.Errorf("mann-whitney on constants: %+v", u)
	}
	// The JSON of undefined figures is null, and it parses.
	j, err := json.Marshal(Describe([]float64{0.4}, b))
	if err != nil || !strings.Contains(string(j), `"sd":null`) || !json.Valid(j) {
		t.Errorf("json %s: %v", j, err)
	}
}

func TestBootstrapDeterministic(t *testing.T) {
	x := samples()["acc30a"]
	lo1, hi1 := DefaultBootstrap.MeanCI(x)
	lo2, hi2 := DefaultBootstrap.MeanCI(x)
	if lo1 != lo2 || hi1 != hi2 {
		t.Errorf("same data, same seed: [%g, %g] then [%g, %g]", lo1, hi1, lo2, hi2)
	}
	if m := Mean(x); !(lo1 < m && m < hi1) {
		t.Errorf("interval [%g, %g] does not hold the mean %g", lo1, hi1, m)
	}
	other := DefaultBootstrap
	other.Seed++
	if lo3, hi3 := other.MeanCI(x); lo3 == lo1 && hi3 == hi1 {
		t.Errorf("another seed gave the same interval [%g, %g]", lo3, hi3)
	}
}

func TestCompareSentences(t *testing.T) {
	s := samples()
	acc := Metric{Name: "test accuracy", HigherIsBetter: true}
	base := Sample{"elu", s["acc30a"]}
	cs := Compare(acc, base, []Sample{{"relu", s["acc30c"]}, {"selu", s["acc30b"]}, {"one", s["one"]}}, DefaultBootstrap)
	same, better, one := cs[0], cs[1], cs[2]
	for _, want := range []string{"No detectable difference with n = 30 runs each", "not evidence that they are equal", "Holm-corrected over 2 comparisons"} {
		if !strings.Contains(same.Sentence, want) {
			t.Errorf("relu sentence lacks %q: %s", want, same.Sentence)
		}
	}
	if !(better.WelchHolm < Alpha) || !strings.Contains(better.Sentence, "selu is better") {
		t.Errorf("selu (mean 0.38 against 0.36, n = 30): %s", better.Sentence)
	}
	if !strings.Contains(one.Sentence, "too few runs") || !math.IsNaN(one.WelchHolm) {
		t.Errorf("one run: %s", one.Sentence)
	}
	// Holm over the family: the adjusted p is at least the raw one.
	if better.WelchHolm < better.Welch.P || same.MannWhitneyHolm < same.MannWhitney.P {
		t.Error("Holm-adjusted p below the raw p")
	}
	// For a loss lower is better: the same numbers read the other way.
	loss := Compare(Metric{Name: "test loss"}, base, []Sample{{"selu", s["acc30b"]}}, DefaultBootstrap)[0]
	if !strings.Contains(loss.Sentence, "selu is worse") || loss.Improvement > 0.5 {
		t.Errorf("loss: %s", loss.Sentence)
	}
	// A diverged run is named.
	div := Compare(acc, base, []Sample{{"lr=1", append([]float64{math.NaN()}, s["acc30b"]...)}}, DefaultBootstrap)[0]
	if div.Missing != 1 || !strings.Contains(div.Sentence, "1 of lr=1 runs that diverged") {
		t.Errorf("diverged: %+v", div)
	}
	if _, err := json.Marshal(cs); err != nil {
		t.Error(err)
	}
	// One wild run: Welch's test (p = 0.59 in scipy) misses what the ranks
	// show (Mann-Whitney p = 0.008): the sentence says the tests disagree.
	x := []float64{0.0, 0.37, 0.38, 0.39, 0.4, 0.41, 0.42, 0.43, 0.44, 0.45}
	y := []float64{0.3, 0.31, 0.32, 0.33, 0.34, 0.35, 0.36, 0.37, 0.38, 0.39}
	wild := Compare(acc, Sample{"base", y}, []Sample{{"wild", x}}, DefaultBootstrap)[0]
	if !strings.Contains(wild.Sentence, "The tests disagree") || !strings.Contains(wild.Sentence, "tentative") {
		t.Errorf("disagreeing tests: %s", wild.Sentence)
	}
	// Five runs each (real ones: ELU and ReLU, lr 0.001 and 0.003, 4
	// epochs, seeds 0-4), three comparisons: relu's interval leaves out
	// zero, yet the corrected tests do not reject; the sentence must not
	// call it "equal" nor a detected difference.
	elu := Sample{"elu", []float64{0.3, 0.279, 0.313, 0.312, 0.268}}
	five := Compare(acc, elu, []Sample{
		{"elu3", []float64{0.268, 0.279, 0.312, 0.303, 0.299}},
		{"relu", []float64{0.303, 0.321, 0.359, 0.348, 0.331}},
		{"relu3", []float64{0.319, 0.314, 0.308, 0.314, 0.316}},
	}, DefaultBootstrap)[1]
	if !(five.DiffLow > 0) || five.WelchHolm < Alpha || five.MannWhitneyHolm < Alpha {
		t.Fatalf("not the case meant: %+v", five)
	}
	for _, want := range []string{"No detectable difference with n = 5 runs each", "leaves out zero", "not corrected for the 3 comparisons", "A hint that relu is better, not evidence"} {
		if !strings.Contains(five.Sentence, want) {
			t.Errorf("sentence lacks %q: %s", want, five.Sentence)
		}
	}
	if strings.Contains(five.Sentence, "not evidence that they are equal") {
		t.Errorf("an interval without zero called consistent with equality: %s", five.Sentence)
	}
}

// TestFewRunsSentences checks what the sentences say of run counts too
// small to settle anything: the exact Mann-Whitney floor (3 runs each
// cannot go below p = 0.1; 4 each can, alone, but not corrected over 2
// comparisons), and the caveat on a bootstrap interval from under FewRuns
// runs, absent from 12 runs each.
func TestFewRunsSentences(t *testing.T) {
	for _, c := range []struct {
		n, m int
		want float64
	}{{1, 1, 1}, {3, 3, 0.1}, {4, 4, 2.0 / 70}, {2, 5, 2.0 / 21}, {8, 8, 2.0 / 12870}} {
		if got := MinMannWhitneyP(c.n, c.m); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("MinMannWhitneyP(%d, %d) = %g, want %g", c.n, c.m, got, c.want)
		}
	}
	acc := Metric{Name: "test accuracy", HigherIsBetter: true}
	if s := Compare(acc, Sample{"elu", []float64{0.3}}, []Sample{{"relu", []float64{0.4}}}, DefaultBootstrap)[0].Sentence; !strings.Contains(s, "too few runs to compare (n = 1 run each)") {
		t.Errorf("1 run each: %s", s)
	}
	// Three runs each, as far apart as runs can be: the exact test's p is
	// its least, 0.1, and the sentence says nothing could be detected.
	apart := Compare(acc, Sample{"elu", []float64{0.30, 0.31, 0.32}}, []Sample{{"relu", []float64{0.40, 0.41, 0.42}}}, DefaultBootstrap)[0]
	if apart.MannWhitney.Method != "exact" || math.Abs(apart.MannWhitney.P-0.1) > 1e-12 {
		t.Fatalf("not the case meant: %+v", apart.MannWhitney)
	}
	if !strings.Contains(apart.Sentence, "no tied results the exact Mann-Whitney test cannot reach p < 0.05 however the runs fall (its p-value is at least 0.1)") {
		t.Errorf("3 runs each: %s", apart.Sentence)
	}
	// Four runs each: one comparison can reach it, two cannot.
	four := func(others ...Sample) []Comparison {
		return Compare(acc, Sample{"elu", []float64{0.30, 0.31, 0.32, 0.33}}, others, DefaultBootstrap)
	}
	relu := Sample{"relu", []float64{0.29, 0.315, 0.325, 0.34}}
	if s := four(relu)[0].Sentence; strings.Contains(s, "cannot reach") {
		t.Errorf("4 runs each, one comparison: %s", s)
	}
	if s := four(relu, Sample{"selu", []float64{0.28, 0.305, 0.335, 0.35}})[0].Sentence; !strings.Contains(s, "at least 0.057") {
		t.Errorf("4 runs each, two comparisons: %s", s)
	}
	// No detectable difference: from few runs the interval is said to be
	// too narrow, from 12 it is not.
	if s := four(relu)[0].Sentence; !strings.Contains(s, "fit these runs, and from so few runs that bootstrap interval is too narrow") {
		t.Errorf("4 runs each, overlapping: %s", s)
	}
	r := rand.New(rand.NewPCG(3, 4))
	x, y := make([]float64, 12), make([]float64, 12)
	for i := range x {
		x[i], y[i] = 0.35+0.03*r.NormFloat64(), 0.35+0.03*r.NormFloat64()
	}
	many := Compare(acc, Sample{"elu", x}, []Sample{{"relu", y}}, DefaultBootstrap)[0]
	if many.WelchHolm < Alpha || many.MannWhitneyHolm < Alpha || !(many.DiffLow < 0 && many.DiffHigh > 0) {
		t.Fatalf("not the case meant: %+v", many)
	}
	if strings.Contains(many.Sentence, "too narrow") || strings.Contains(many.Sentence, "cannot reach") {
		t.Errorf("12 runs each: %s", many.Sentence)
	}
}

// TestProbabilityOfImprovementQuadratic checks the sorted count against
// the definition, pair by pair, on samples with many ties.
func TestProbabilityOfImprovementQuadratic(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		x, y := make([]float64, 1+r.IntN(12)), make([]float64, 1+r.IntN(12))
		for i := range x {
			x[i] = float64(r.IntN(5))
		}
		for i := range y {
			y[i] = float64(r.IntN(5))
		}
		wins := 0.0
		for _, a := range x {
			for _, b := range y {
				if a > b {
					wins++
				} else if a == b {
					wins += 0.5
				}
			}
		}
		if got, want := ProbabilityOfImprovement(x, y), wins/float64(len(x)*len(y)); got != want {
			t.Fatalf("trial %d: %v vs %v: %v, want %v", trial, x, y, got, want)
		}
	}
}

func TestLocate(t *testing.T) {
	x := []float64{0.30, 0.35, 0.37, 0.40, 0.33}
	p := Locate(Metric{Name: "test accuracy", HigherIsBetter: true}, x, 0.37, "seed 42")
	if p.Rank != 2 || p.N != 5 || p.Percentile != 80 {
		t.Errorf("%+v", p)
	}
	if !strings.Contains(p.Sentence, "ranks 2 of 5") {
		t.Error(p.Sentence)
	}
	if p := Locate(Metric{Name: "test loss"}, x, 0.37, "seed 42"); p.Rank != 4 {
		t.Errorf("loss rank %d, want 4", p.Rank)
	}
}

// TestOrderDoesNotMatter: the runs of an experiment can be listed in any
// order (collected from shards, say); every figure must be the same.
func TestOrderDoesNotMatter(t *testing.T) {
	s := samples()
	x, y := s["acc30a"], s["skew"]
	rx, ry := slices.Clone(x), slices.Clone(y)
	slices.Reverse(rx)
	r := rand.New(rand.NewPCG(3, 3))
	r.Shuffle(len(ry), func(i, j int) { ry[i], ry[j] = ry[j], ry[i] })
	if a, b := Describe(x, DefaultBootstrap), Describe(rx, DefaultBootstrap); a != b {
		t.Errorf("Describe depends on the order:\n%+v\n%+v", a, b)
	}
	acc := Metric{Name: "test accuracy", HigherIsBetter: true}
	a := Compare(acc, Sample{"y", y}, []Sample{{"x", x}}, DefaultBootstrap)[0]
	b := Compare(acc, Sample{"y", ry}, []Sample{{"x", rx}}, DefaultBootstrap)[0]
	if a != b {
		t.Errorf("Compare depends on the order:\n%+v\n%+v", a, b)
	}
}

// TestPIs: a p-value reads as English in a sentence ("p = < 0.001" did not).
func TestPIs(t *testing.T) {
	for p, want := range map[float64]string{0.24: "p = 0.24", 0.0004: "p < 0.001", math.NaN(): "p = n/a"} {
		if got := pIs(p); got != want {
			t.Errorf("pIs(%v) = %q, want %q", p, got, want)
		}
	}
}

// TestReviewedSentences: cases a review found the sentences wrong on.
func TestReviewedSentences(t *testing.T) {
	acc := Metric{Name: "test accuracy", HigherIsBetter: true}
	// Both tests reject, but two runs far below the rest keep zero in the
	// bootstrap interval: not "x is better".
	x := []float64{0.2784199129428597, 0.34677704821279903, 0.3679, 0.3631, 0.3646, 0.3765, 0.3655, 0.3827, 0.3798, 0.3658, 0.3682, 0.3674, 0.368}
	y := []float64{0.3533, 0.3537, 0.3474, 0.32305115918910815, 0.3468, 0.3332, 0.3578, 0.3447, 0.3647, 0.3406, 0.356, 0.3053985730660102, 0.3399, 0.3399, 0.27495838085527097, 0.3688, 0.3589, 0.3526}
	c := Compare(acc, Sample{"base", y}, []Sample{{"x", x}}, DefaultBootstrap)[0]
	if !(c.WelchHolm < Alpha && c.MannWhitneyHolm < Alpha && c.DiffLow <= 0) {
		t.Fatalf("not the case meant: %+v", c)
	}
	if strings.Contains(c.Sentence, "x is better (") || !strings.Contains(c.Sentence, "includes zero") || !strings.Contains(c.Sentence, "tentative") {
		t.Errorf("tests reject, interval holds zero: %s", c.Sentence)
	}

	// Both tests are corrected over the same family, the one the sentence
	// names, although Welch's test is undefined for "same" (constant, as
	// the baseline): scipy's p-values 0.03796 (Welch) and 0.03498
	// (Mann-Whitney) for "up", each times 2.
	base := Sample{"base", []float64{0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3}}
	cs := Compare(acc, base, []Sample{
		{"same", []float64{0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3}},
		{"up", []float64{0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.31, 0.311, 0.312, 0.313}},
	}, DefaultBootstrap)
	up := cs[1]
	near(t, "Welch Holm", up.WelchHolm, 2*0.03795631612800477, 1e-9)
	near(t, "Mann-Whitney Holm", up.MannWhitneyHolm, 2*0.03498309640812092, 1e-9)
	if !strings.Contains(up.Sentence, "Holm-corrected over 2 comparisons") {
		t.Errorf("family named: %s", up.Sentence)
	}
	// Two constant configurations: Welch undefined, Mann-Whitney's p
	// (scipy 0.01312) said, not "the tests are undefined".
	k := Compare(acc, Sample{"base", []float64{0.3, 0.3, 0.3, 0.3}}, []Sample{{"k", []float64{0.31, 0.31, 0.31, 0.31}}}, DefaultBootstrap)[0]
	near(t, "constant Mann-Whitney", k.MannWhitneyHolm, 0.013123806784370716, 1e-9)
	if !strings.Contains(k.Sentence, "Welch's t-test is undefined") || !strings.Contains(k.Sentence, "Mann-Whitney U p = 0.013") {
		t.Errorf("two constant configurations: %s", k.Sentence)
	}

	// The normal approximation's far tail (scipy: 7.066e-18 for 1..50
	// against 51..100, 3.0786e-14 for 1..39 against 40..78).
	seq := func(a, b int) []float64 {
		var v []float64
		for i := a; i <= b; i++ {
			v = append(v, float64(i))
		}
		return v
	}
	near(t, "tail 50", MannWhitneyU(seq(1, 50), seq(51, 100)).P/7.066071930388932e-18, 1, 1e-9)
	near(t, "tail 39", MannWhitneyU(seq(1, 39), seq(40, 78)).P/3.078637555679825e-14, 1, 1e-9)

	// Seed 42's sentence ranges over the other seeds only.
	p := Locate(acc, []float64{0.07, 0.09, 0.13, 0.15}, 0.15, "seed 42")
	if !strings.Contains(p.Sentence, "other seeds gave 0.0700 to 0.1300") {
		t.Errorf("range of the others: %s", p.Sentence)
	}
	if p := Locate(acc, []float64{0.12}, 0.12, "seed 42"); !strings.Contains(p.Sentence, "only finished run") {
		t.Errorf("alone: %s", p.Sentence)
	}
}

// TestDirectionOfTheSignificantTest: when only Mann-Whitney's test finds
// a difference, the direction said is the ranks', not the mean's, and
// where the two point opposite ways the sentence says so and names no
// winner. Fabricated: ten relu runs 0.07 below their elu runs and two
// relu runs far above (0.95) lift relu's mean above elu's while most
// relu runs are worse; the other way round, two runs collapsed to
// chance (0.10) pull down the mean of a configuration whose runs are
// mostly better.
func TestDirectionOfTheSignificantTest(t *testing.T) {
	acc := Metric{Name: "test accuracy", HigherIsBetter: true}
	var elu, down, up []float64
	for i := range 12 {
		elu = append(elu, 0.30+0.01*float64(i))
	}
	for i := range 10 {
		down = append(down, elu[i]-0.07)
	}
	down = append(down, 0.95, 0.95)
	tight := make([]float64, 12)
	for i := range 12 {
		tight[i] = 0.35 + 0.001*float64(i)
		if i < 10 {
			up = append(up, tight[i]+0.015)
		}
	}
	up = append(up, 0.10, 0.10)
	for _, c := range []struct {
		name       string
		base, x    []float64
		mean, rank string
	}{{"outliers", elu, down, "better", "worse"}, {"collapsed", tight, up, "worse", "better"}} {
		r := Compare(acc, Sample{"elu", c.base}, []Sample{{"relu", c.x}}, DefaultBootstrap)[0]
		if !(r.MannWhitneyHolm < Alpha && r.WelchHolm >= Alpha) || (r.Diff > 0) != (c.mean == "better") || (r.Improvement > 0.5) != (c.rank == "better") {
			t.Fatalf("%s: not the case meant: %+v", c.name, r)
		}
		for _, want := range []string{
			"point opposite ways: by the difference of means relu is " + c.mean + ", by the ranks it is " + c.rank,
			"a tentative sign that most runs of relu are " + c.rank,
			"no configuration can be called the better one",
		} {
			if !strings.Contains(r.Sentence, want) {
				t.Errorf("%s: sentence lacks %q: %s", c.name, want, r.Sentence)
			}
		}
		if strings.Contains(r.Sentence, "relu is "+c.mean+",") && !strings.Contains(r.Sentence, "means relu is "+c.mean) || strings.Contains(r.Sentence, "sign that relu is") {
			t.Errorf("%s: a winner named: %s", c.name, r.Sentence)
		}
		t.Log(r.Sentence)
	}
}

// TestEveryRunDiverged: a configuration none of whose runs is left has no
// statistics, and the sentence says that, not that leaving its runs out
// makes it look better than it is (there is nothing left to look at).
func TestEveryRunDiverged(t *testing.T) {
	acc := Metric{Name: "test accuracy", HigherIsBetter: true}
	nan := math.NaN()
	base := Sample{"lr=0.01", []float64{0.244, 0.241, 0.254}}
	all := Compare(acc, base, []Sample{{"lr=1000", []float64{nan, nan, nan}}}, DefaultBootstrap)[0]
	if !strings.Contains(all.Sentence, "All 3 runs of lr=1000 diverged (no finite result), so it has no statistics.") || strings.Contains(all.Sentence, "look better") {
		t.Errorf("every run diverged: %s", all.Sentence)
	}
	one := Compare(acc, Sample{"lr=1000", []float64{nan}}, []Sample{base}, DefaultBootstrap)[0]
	if !strings.Contains(one.Sentence, "The one run of lr=1000 diverged") || strings.Contains(one.Sentence, "look better") {
		t.Errorf("the baseline's one run diverged: %s", one.Sentence)
	}
	// Some left: those flatter it.
	some := Compare(acc, base, []Sample{{"lr=1", []float64{nan, 0.2, 0.21}}}, DefaultBootstrap)[0]
	if !strings.Contains(some.Sentence, "Left out: 1 of lr=1 runs that diverged (no finite result), which makes that configuration look better than it is.") || strings.Contains(some.Sentence, "no statistics") {
		t.Errorf("some diverged: %s", some.Sentence)
	}
}

// TestMannWhitneyFloorPerComparison: whether the sentence says that no
// difference could be detected follows each comparison's own least
// corrected Mann-Whitney p-value, even where another comparison of the
// family has ties (test accuracies on 1000 images tie often) and so the
// normal approximation. A single comparison's p-value is not called
// corrected.
func TestMannWhitneyFloorPerComparison(t *testing.T) {
	acc := Metric{Name: "test accuracy", HigherIsBetter: true}
	// 3 configurations of 3 seeds (real accuracies, 1 epoch): relu ties
	// with elu at 0.175, selu does not (exact test, least p 0.1). Over 2
	// comparisons, selu's least corrected p is 2 x 0.1 = 0.2, and relu's
	// (normal approximation with its tie, 0.12) is that too.
	elu := Sample{"elu", []float64{0.246, 0.143, 0.175}}
	cs := Compare(acc, elu, []Sample{
		{"relu", []float64{0.266, 0.171, 0.175}},
		{"selu", []float64{0.212, 0.141, 0.145}},
	}, DefaultBootstrap)
	relu, selu := cs[0], cs[1]
	if relu.MannWhitney.Method != "asymptotic" || selu.MannWhitney.Method != "exact" {
		t.Fatalf("not the case meant: %+v %+v", relu.MannWhitney, selu.MannWhitney)
	}
	for _, c := range []struct {
		c    Comparison
		want string
	}{
		{selu, "With n = 3 runs each and no tied results the exact Mann-Whitney test cannot reach p < 0.05 however the runs fall (its corrected p-value is at least 0.2)"},
		{relu, "With n = 3 runs each and the ties among these results the Mann-Whitney test cannot reach p < 0.05 however the runs fall (its corrected p-value is at least 0.2)"},
	} {
		if !strings.Contains(c.c.Sentence, c.want) {
			t.Errorf("%s: sentence lacks %q: %s", c.c.Name, c.want, c.c.Sentence)
		}
	}
	// The least corrected p is reached: relu's runs all above elu's.
	far := Compare(acc, elu, []Sample{
		{"relu", []float64{0.266, 0.271, 0.275}},
		{"selu", []float64{0.212, 0.141, 0.145}},
	}, DefaultBootstrap)
	if !strings.Contains(far[1].Sentence, "(its corrected p-value is at least 0.2)") || math.Abs(far[0].MannWhitneyHolm-0.2) > 1e-12 {
		t.Errorf("3 runs each, no ties: %.3g, %s", far[0].MannWhitneyHolm, far[1].Sentence)
	}

	// 4 runs each, 2 comparisons, one with a tie (relu at 0.31): the exact
	// test's least p, 2/70, is 0.057 corrected, and the tied comparison's
	// (normal approximation, 0.029) is too.
	four := Compare(acc, Sample{"elu", []float64{0.30, 0.31, 0.32, 0.33}}, []Sample{
		{"relu", []float64{0.29, 0.31, 0.325, 0.34}},
		{"selu", []float64{0.28, 0.305, 0.335, 0.35}},
	}, DefaultBootstrap)
	if four[0].MannWhitney.Method != "asymptotic" || four[1].MannWhitney.Method != "exact" {
		t.Fatalf("not the case meant: %+v %+v", four[0].MannWhitney, four[1].MannWhitney)
	}
	for _, c := range four {
		if !strings.Contains(c.Sentence, "cannot reach p < 0.05 however the runs fall (its corrected p-value is at least 0.057)") {
			t.Errorf("4 runs each over 2 comparisons, %s: %s", c.Name, c.Sentence)
		}
	}

	// Without ties the least p is the exact test's, 2 / C(n+m, n).
	for _, c := range [][2]int{{2, 2}, {3, 3}, {4, 4}, {2, 5}, {8, 8}} {
		var x, y []float64
		for i := range c[0] {
			x = append(x, float64(2*i))
		}
		for i := range c[1] {
			y = append(y, float64(2*i+1))
		}
		if p, tied := leastMannWhitneyP(x, y); tied || math.Abs(p-MinMannWhitneyP(c[0], c[1])) > 1e-15 {
			t.Errorf("least p for %d and %d runs: %g (tied %v), want %g", c[0], c[1], p, tied, MinMannWhitneyP(c[0], c[1]))
		}
	}

	// Neither exact nor tied (9 runs each), in a family large enough to
	// keep the normal approximation's least p above 0.05 corrected: the
	// sentence reads as English.
	var x9, y9 []float64
	for i := range 9 {
		x9, y9 = append(x9, 0.3+0.01*float64(i)), append(y9, 0.305+0.01*float64(i))
	}
	c9 := Compare(acc, Sample{"elu", x9}, []Sample{{"relu", y9}}, DefaultBootstrap)[0]
	if s := c9.sentence(acc, 200, 0.95, 0.08, false); !strings.Contains(s, "With n = 9 runs each the Mann-Whitney test cannot reach p < 0.05 however the runs fall (its corrected p-value is at least 0.08)") {
		t.Errorf("9 runs each, 200 comparisons: %s", s)
	}

	// One comparison: no correction, and the p-value is not called
	// corrected.
	one := Compare(acc, Sample{"elu", []float64{0.30, 0.31}}, []Sample{{"relu", []float64{0.32, 0.29}}}, DefaultBootstrap)[0]
	if !strings.Contains(one.Sentence, "one comparison, so no correction") || !strings.Contains(one.Sentence, "(its p-value is at least 0.33)") || strings.Contains(one.Sentence, "corrected p-value") {
		t.Errorf("one comparison: %s", one.Sentence)
	}
}

// TestFewRunsCertainty: the probability of improvement from runs that
// all beat the baseline's has a bootstrap interval of 1.00 to 1.00, which
// the sentence says overstates the certainty; from fewer than FewRuns
// runs the interval is called too narrow; a Mann-Whitney floor Holm's
// correction raised to 1 reads "is 1", not "is at least 1".
func TestFewRunsCertainty(t *testing.T) {
	acc := Metric{Name: "test accuracy", HigherIsBetter: true}
	base := Sample{"elu", []float64{0.20, 0.21}}
	cs := Compare(acc, base, []Sample{
		{"relu", []float64{0.30, 0.31}},
		{"selu", []float64{0.205, 0.25}},
		{"gelu", []float64{0.19, 0.22}},
	}, DefaultBootstrap)
	if s := cs[0].Sentence; !strings.Contains(s, "with probability 1.00 in these runs (every run of relu beat every run of elu;") || !strings.Contains(s, "overstates the certainty") {
		t.Errorf("all runs better: %s", s)
	}
	if s := cs[1].Sentence; !strings.Contains(s, "from so few runs that the interval is too narrow") {
		t.Errorf("2 runs each: %s", s)
	}
	for _, c := range cs {
		if strings.Contains(c.Sentence, "at least 1)") || !strings.Contains(c.Sentence, "p-value is 1)") {
			t.Errorf("%s: the Mann-Whitney floor of 2 runs each over 3 comparisons: %s", c.Name, c.Sentence)
		}
	}
}
