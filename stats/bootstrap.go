package stats

import (
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"
)

// Bootstrap says how confidence intervals are resampled. Each interval
// draws its resamples from a fresh generator seeded with Seed, so an
// interval depends only on its data and these settings.
type Bootstrap struct {
	// Resamples is the number of bootstrap resamples (B).
	Resamples int `json:"resamples"`
	// Seed seeds the PCG generator (math/rand/v2) that draws them.
	Seed uint64 `json:"seed"`
	// Level is the confidence level, e.g. 0.95.
	Level float64 `json:"level"`
}

// DefaultBootstrap is what an experiment's statistics use: 95% intervals
// from 10000 resamples (scipy.stats.bootstrap uses 9999; rliable 50000 for
// its figures, 2000 for its profiles), seed 1.
var DefaultBootstrap = Bootstrap{Resamples: 10000, Seed: 1, Level: 0.95}

// MeanCI is the BCa bootstrap confidence interval of the mean of x, as
// scipy.stats.bootstrap((x,), np.mean, method="BCa") computes it (with its
// own random resamples). NaN when len(x) < 2 or x holds a NaN; [v, v] when
// every value is v (scipy gives NaN there: the interval is degenerate, not
// unknown).
func (b Bootstrap) MeanCI(x []float64) (lo, hi float64) {
	if len(x) < 2 || hasNaN(x) {
		return math.NaN(), math.NaN()
	}
	return b.bca([][]float64{x}, func(s [][]float64) float64 { return Mean(s[0]) })
}

// DiffCI is the BCa bootstrap confidence interval of mean(x) - mean(y),
// x and y resampled independently (scipy.stats.bootstrap((x, y),
// statistic, method="BCa")). NaN when either sample has fewer than two
// values or holds a NaN.
func (b Bootstrap) DiffCI(x, y []float64) (lo, hi float64) {
	if len(x) < 2 || len(y) < 2 || hasNaN(x, y) {
		return math.NaN(), math.NaN()
	}
	return b.bca([][]float64{x, y}, func(s [][]float64) float64 { return Mean(s[0]) - Mean(s[1]) })
}

// ImprovementCI is the percentile bootstrap confidence interval of
// ProbabilityOfImprovement(x, y), x and y resampled independently, as
// rliable's get_interval_estimates does (StratifiedIndependentBootstrap,
// method "percentile"). NaN when either sample has fewer than two values
// or holds a NaN.
func (b Bootstrap) ImprovementCI(x, y []float64) (lo, hi float64) {
	if len(x) < 2 || len(y) < 2 || hasNaN(x, y) {
		return math.NaN(), math.NaN()
	}
	thetas := b.replicates([][]float64{x, y}, func(s [][]float64) float64 { return ProbabilityOfImprovement(s[0], s[1]) })
	alpha := (1 - b.Level) / 2
	return Quantile(thetas, alpha), Quantile(thetas, 1-alpha)
}

// replicates draws b.Resamples bootstrap resamples of the samples (each
// resampled independently, with replacement, to its own size) and returns
// the statistic of each. The draws are by position in the sorted samples,
// so an interval depends on the values, not on their order.
func (b Bootstrap) replicates(samples [][]float64, statistic func([][]float64) float64) []float64 {
	samples = sortedCopies(samples)
	r := rand.New(rand.NewPCG(b.Seed, 0x5eed))
	bufs := make([][]float64, len(samples))
	for j, s := range samples {
		bufs[j] = make([]float64, len(s))
	}
	out := make([]float64, b.Resamples)
	for i := range out {
		for j, s := range samples {
			for k := range bufs[j] {
				bufs[j][k] = s[r.IntN(len(s))]
			}
		}
		out[i] = statistic(bufs)
	}
	return out
}

// bca is the bias-corrected and accelerated interval of Efron and
// Tibshirani (1993), sections 14.3 and 15.4, as scipy's _bca_interval
// computes it: z0 from the share of replicates below the estimate (ties
// counted half), the acceleration from a jackknife over each sample.
func (b Bootstrap) bca(samples [][]float64, statistic func([][]float64) float64) (lo, hi float64) {
	samples = sortedCopies(samples)
	theta := statistic(samples)
	thetas := b.replicates(samples, statistic)
	if !slices.ContainsFunc(thetas, func(v float64) bool { return v != theta }) {
		return theta, theta
	}
	alpha1, alpha2 := bcaLevels(samples, statistic, theta, thetas, b.Level)
	if math.IsNaN(alpha1) || math.IsNaN(alpha2) {
		return math.NaN(), math.NaN()
	}
	return Quantile(thetas, alpha1), Quantile(thetas, alpha2)
}

// bcaLevels returns the quantile levels of the replicates that bound the
// BCa interval.
func bcaLevels(samples [][]float64, statistic func([][]float64) float64, theta float64, thetas []float64, level float64) (alpha1, alpha2 float64) {
	below := 0
	for _, v := range thetas {
		if v < theta {
			below += 2
		} else if v == theta {
			below++
		}
	}
	z0 := distuv.UnitNormal.Quantile(float64(below) / float64(2*len(thetas)))

	// Jackknife: leave out each value of each sample in turn.
	var num, den float64
	for j, s := range samples {
		n := len(s)
		jack := make([]float64, n)
		rest := make([]float64, n-1)
		view := slices.Clone(samples)
		view[j] = rest
		for i := range s {
			copy(rest, s[:i])
			copy(rest[i:], s[i+1:])
			jack[i] = statistic(view)
		}
		dot := Mean(jack)
		var u2, u3 float64
		for _, t := range jack {
			u := float64(n-1) * (dot - t)
			u2 += u * u
			u3 += u * u * u
		}
		nf := float64(n)
		num += u3 / (nf * nf * nf)
		den += u2 / (nf * nf)
	}
	a := num / (6 * math.Pow(den, 1.5))

	za := distuv.UnitNormal.Quantile((1 - level) / 2)
	n1, n2 := z0+za, z0-za
	return distuv.UnitNormal.CDF(z0 + n1/(1-a*n1)), distuv.UnitNormal.CDF(z0 + n2/(1-a*n2))
}

func sortedCopies(samples [][]float64) [][]float64 {
	out := make([][]float64, len(samples))
	for i, s := range samples {
		out[i] = slices.Clone(s)
		slices.Sort(out[i])
	}
	return out
}
