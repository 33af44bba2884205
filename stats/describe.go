package stats

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/stat"
)

// Summary describes one sample: the runs of one configuration.
type Summary struct {
	// N is the number of finite values described; Missing the number of
	// non-finite values (diverged runs) left out of every figure below.
	N       int     `json:"n"`
	Missing int     `json:"missing"`
	Mean    float64 `json:"mean"`
	// SD is the sample standard deviation (ddof = 1); NaN when N < 2.
	SD float64 `json:"sd"`
	// CILow and CIHigh bound the 95% BCa bootstrap confidence interval of
	// the mean (see Bootstrap); NaN when N < 2.
	CILow  float64 `json:"ci_low"`
	CIHigh float64 `json:"ci_high"`
	// Median, Q1 and Q3 are numpy's default (linear) quantiles 0.5, 0.25
	// and 0.75; the interquartile range is Q3 - Q1.
	Median float64 `json:"median"`
	Q1     float64 `json:"q1"`
	Q3     float64 `json:"q3"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

// IQR is the interquartile range Q3 - Q1.
func (s Summary) IQR() float64 { return s.Q3 - s.Q1 }

// Describe summarises the finite values of x; non-finite values are
// counted in Missing and otherwise ignored. With no finite value every
// figure is NaN.
func Describe(x []float64, b Bootstrap) Summary {
	f := sortedFinite(x)
	s := Summary{N: len(f), Missing: len(x) - len(f)}
	if len(f) == 0 {
		nan := math.NaN()
		s.Mean, s.SD, s.CILow, s.CIHigh, s.Median, s.Q1, s.Q3, s.Min, s.Max = nan, nan, nan, nan, nan, nan, nan, nan, nan
		return s
	}
	s.Mean, s.SD = Mean(f), SD(f)
	s.CILow, s.CIHigh = b.MeanCI(f)
	s.Median, s.Q1, s.Q3 = Quantile(f, 0.5), Quantile(f, 0.25), Quantile(f, 0.75)
	s.Min, s.Max = slices.Min(f), slices.Max(f)
	return s
}

// Finite returns the finite values of x, in order, in a new slice.
func Finite(x []float64) []float64 {
	out := make([]float64, 0, len(x))
	for _, v := range x {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			out = append(out, v)
		}
	}
	return out
}

// sortedFinite returns the finite values of x sorted, in a new slice: the
// summaries and comparisons work on it so that they depend on the values
// only, never on the order the runs were listed in (a sum in another order
// can differ in its last bit, and a bootstrap draws by position).
func sortedFinite(x []float64) []float64 {
	f := Finite(x)
	slices.Sort(f)
	return f
}

// hasNaN reports whether x holds a NaN.
func hasNaN(xs ...[]float64) bool {
	for _, x := range xs {
		for _, v := range x {
			if math.IsNaN(v) {
				return true
			}
		}
	}
	return false
}

// Mean is the arithmetic mean; NaN for an empty sample.
func Mean(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	return stat.Mean(x, nil)
}

// SD is the sample standard deviation, sqrt(sum((x - mean)^2) / (n - 1))
// (numpy's std with ddof = 1); NaN when len(x) < 2.
func SD(x []float64) float64 {
	if len(x) < 2 {
		return math.NaN()
	}
	return stat.StdDev(x, nil)
}

// Quantile is numpy.quantile(x, q) with its default "linear" method: the
// values sorted, position h = (n - 1) q, and linear interpolation between
// the values at floor(h) and floor(h) + 1. NaN for an empty sample, a q
// outside [0, 1], or a NaN in x (numpy propagates it).
func Quantile(x []float64, q float64) float64 {
	if len(x) == 0 || !(q >= 0 && q <= 1) || hasNaN(x) {
		return math.NaN()
	}
	s := slices.Clone(x)
	slices.Sort(s)
	h := float64(len(s)-1) * q
	lo := int(math.Floor(h))
	if lo >= len(s)-1 {
		return s[len(s)-1]
	}
	return lerp(s[lo], s[lo+1], h-float64(lo))
}

// lerp is numpy's _lerp: a + (b - a) t, computed from the nearer end so
// that t = 1 gives b exactly.
func lerp(a, b, t float64) float64 {
	if t >= 0.5 {
		return b - (b-a)*(1-t)
	}
	return a + (b-a)*t
}
