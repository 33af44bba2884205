package stats

import (
	"math"
	"slices"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"
)

// TTest is the result of Welch's t-test.
type TTest struct {
	T  float64 `json:"t"`
	DF float64 `json:"df"`
	// P is the two-sided p-value.
	P float64 `json:"p"`
}

// Welch is Welch's unequal-variances t-test of mean(x) = mean(y), as
// scipy.stats.ttest_ind(x, y, equal_var=False): t = (mean(x) - mean(y)) /
// sqrt(vx/nx + vy/ny) with the sample variances (ddof = 1), the
// Welch-Satterthwaite degrees of freedom, and p = 2 P(T > |t|). Every
// field is NaN when either sample has fewer than two values or holds a NaN,
// and when both samples are constant (the test is undefined; scipy gives
// NaN when their values are equal, and a meaningless huge t when rounding
// leaves a variance of 1e-33 or so).
func Welch(x, y []float64) TTest {
	nan := TTest{math.NaN(), math.NaN(), math.NaN()}
	if len(x) < 2 || len(y) < 2 || hasNaN(x, y) {
		return nan
	}
	nx, ny := float64(len(x)), float64(len(y))
	sx, sy := SD(x), SD(y)
	vx, vy := sx*sx/nx, sy*sy/ny
	if vx+vy == 0 {
		return nan
	}
	t := (Mean(x) - Mean(y)) / math.Sqrt(vx+vy)
	df := (vx + vy) * (vx + vy) / (vx*vx/(nx-1) + vy*vy/(ny-1))
	p := 2 * distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Survival(math.Abs(t))
	return TTest{T: t, DF: df, P: min(p, 1)}
}

// UTest is the result of the Mann-Whitney U test.
type UTest struct {
	// U is the statistic of x: the number of pairs (x_i, y_j) with
	// x_i > y_j, ties counted half (scipy's U1).
	U float64 `json:"u"`
	// P is the two-sided p-value.
	P float64 `json:"p"`
	// Method is "exact" or "asymptotic", as scipy chose it.
	Method string `json:"method"`
}

// MannWhitneyU is the two-sided Mann-Whitney U test as
// scipy.stats.mannwhitneyu(x, y) computes it in scipy 1.10 (Debian 12's),
// with its default method="auto": the exact null distribution when one
// sample has at most 8 values and no value is tied, otherwise the normal
// approximation with the tie correction of the variance and a continuity
// correction of 0.5. U and P are NaN when either sample is empty or holds a
// NaN.
func MannWhitneyU(x, y []float64) UTest {
	if len(x) == 0 || len(y) == 0 || hasNaN(x, y) {
		return UTest{math.NaN(), math.NaN(), ""}
	}
	n1, n2 := len(x), len(y)
	xy := append(slices.Clone(x), y...)
	ranks, ties := Ranks(xy)
	r1 := 0.0
	for _, r := range ranks[:n1] {
		r1 += r
	}
	u1 := r1 - float64(n1*(n1+1))/2
	u2 := float64(n1*n2) - u1
	u := max(u1, u2)
	if (n1 <= 8 || n2 <= 8) && ties == 0 {
		// The two-sided p-value from the upper tail of the larger U,
		// computed through the symmetric lower tail.
		p := 2 * exactUCDF(n1, n2, n1*n2-int(u))
		return UTest{U: u1, P: min(p, 1), Method: "exact"}
	}
	n := float64(n1 + n2)
	s := math.Sqrt(float64(n1*n2) / 12 * ((n + 1) - ties/(n*(n-1))))
	z := (u - float64(n1*n2)/2 - 0.5) / s
	// 2 P(Z > z) as erfc, exact in the far tail, where 1 - CDF (gonum's
	// Survival) reaches 0 from z of about 8.3.
	p := math.Erfc(z / math.Sqrt2)
	return UTest{U: u1, P: min(p, 1), Method: "asymptotic"}
}

// exactUCDF is P(U <= k) under the null hypothesis for samples of m and n
// values without ties. The number of arrangements giving U = i is the
// coefficient of q^i in the Gaussian binomial coefficient [m+n choose m]_q
// = prod_{i=1..m} (1 - q^(n+i)) / (1 - q^i); only the coefficients up to k
// are needed, and k <= mn/2 where they are exact in float64 for every
// size an experiment has.
func exactUCDF(m, n, k int) float64 {
	if k < 0 {
		return 0
	}
	c := make([]float64, k+1)
	c[0] = 1
	for i := 1; i <= m; i++ {
		for j := k; j >= n+i; j-- { // times (1 - q^(n+i))
			c[j] -= c[j-n-i]
		}
		for j := i; j <= k; j++ { // divided by (1 - q^i)
			c[j] += c[j-i]
		}
	}
	sum := 0.0
	for _, v := range c {
		sum += v
	}
	// Divided by the number of arrangements, C(m+n, m).
	lg, _ := math.Lgamma(float64(m + n + 1))
	la, _ := math.Lgamma(float64(m + 1))
	lb, _ := math.Lgamma(float64(n + 1))
	total := math.Round(math.Exp(lg - la - lb))
	return sum / total
}

// Ranks returns the ranks of x (1 for the smallest), ties given their
// average rank (scipy.stats.rankdata's default), and the tie term
// sum(t^3 - t) over the groups of t tied values.
func Ranks(x []float64) (ranks []float64, ties float64) {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return x[idx[a]] < x[idx[b]] })
	ranks = make([]float64, len(x))
	for i := 0; i < len(idx); {
		j := i + 1
		for j < len(idx) && x[idx[j]] == x[idx[i]] {
			j++
		}
		avg := float64(i+j+1) / 2 // ranks i+1 .. j averaged
		for _, k := range idx[i:j] {
			ranks[k] = avg
		}
		t := float64(j - i)
		ties += t*t*t - t
		i = j
	}
	return ranks, ties
}

// Holm adjusts a family of p-values for multiple comparisons by Holm's
// step-down method: sorted ascending, the i-th smallest (from 0) becomes
// max over j <= i of min(1, (m - j) p_(j)), m the number of p-values. NaN
// p-values (an undefined test) are left NaN and not counted in m.
func Holm(p []float64) []float64 { return holm(p, 0) }

// holm is Holm with a family of at least m hypotheses: an undefined test
// (NaN) among m counts as one that cannot be rejected, so that two tests
// run over the same comparisons are corrected over the same number even
// where one of them is undefined.
func holm(p []float64, m int) []float64 {
	out := make([]float64, len(p))
	var idx []int
	for i, v := range p {
		out[i] = math.NaN()
		if !math.IsNaN(v) {
			idx = append(idx, i)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return p[idx[a]] < p[idx[b]] })
	m = max(m, len(idx))
	running := 0.0
	for j, i := range idx {
		running = max(running, min(1, float64(m-j)*p[i]))
		out[i] = running
	}
	return out
}

// HedgesG is the standardised difference of means (mean(x) - mean(y)) /
// s_pooled, s_pooled^2 = ((nx-1) sx^2 + (ny-1) sy^2) / (nx + ny - 2), times
// the exact small-sample bias correction J(df) = Gamma(df/2) /
// (sqrt(df/2) Gamma((df-1)/2)), df = nx + ny - 2 (Hedges 1981). NaN when
// either sample has fewer than two values, holds a NaN, or both samples
// are constant.
func HedgesG(x, y []float64) float64 {
	if len(x) < 2 || len(y) < 2 || hasNaN(x, y) {
		return math.NaN()
	}
	nx, ny := float64(len(x)), float64(len(y))
	sx, sy := SD(x), SD(y)
	df := nx + ny - 2
	pooled := math.Sqrt(((nx-1)*sx*sx + (ny-1)*sy*sy) / df)
	if pooled == 0 {
		return math.NaN()
	}
	a, _ := math.Lgamma(df / 2)
	b, _ := math.Lgamma((df - 1) / 2)
	j := math.Exp(a-b) / math.Sqrt(df/2)
	return (Mean(x) - Mean(y)) / pooled * j
}

// ProbabilityOfImprovement is P(X > Y) + 0.5 P(X = Y) for X drawn from x
// and Y from y, as rliable's metrics.probability_of_improvement defines it
// for one task: the Mann-Whitney U of x divided by len(x) len(y) (0.5 when
// x and y are equal). NaN when either sample is empty or holds a NaN.
func ProbabilityOfImprovement(x, y []float64) float64 {
	if len(x) == 0 || len(y) == 0 || hasNaN(x, y) {
		return math.NaN()
	}
	// Sorted, each x counts the y below it and half the y equal to it,
	// found by advancing through y once: O(n log n), not O(n^2), for the
	// bootstrap's thousands of resamples.
	xs, ys := slices.Clone(x), slices.Clone(y)
	slices.Sort(xs)
	slices.Sort(ys)
	wins := 0.0
	below, upTo := 0, 0 // ys[:below] < a, ys[:upTo] <= a
	for _, a := range xs {
		for below < len(ys) && ys[below] < a {
			below++
		}
		for upTo < len(ys) && ys[upTo] <= a {
			upTo++
		}
		wins += float64(below) + 0.5*float64(upTo-below)
	}
	return wins / float64(len(x)*len(y))
}

// PercentileOfScore is scipy.stats.percentileofscore(x, v) with its default
// kind="rank": the percentage of values below v, counting values equal to
// v as the average of their ranks, (below + (equal + 1) / 2) / n * 100 when
// v is in x. NaN for an empty x or a NaN anywhere.
func PercentileOfScore(x []float64, v float64) float64 {
	if len(x) == 0 || math.IsNaN(v) || hasNaN(x) {
		return math.NaN()
	}
	below, equal := 0, 0
	for _, a := range x {
		if a < v {
			below++
		} else if a == v {
			equal++
		}
	}
	// scipy: (left + right + (right > left)) * 50 / n with left = below,
	// right = below + equal.
	right := below + equal
	extra := 0
	if right > below {
		extra = 1
	}
	return float64(below+right+extra) * 50 / float64(len(x))
}
