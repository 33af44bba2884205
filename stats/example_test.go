package stats_test

import (
	"fmt"

	"github.com/cifarnet/cifarnet/stats"
)

// Welch's t-test of two tiny samples with equal variances: t = -2 /
// sqrt(1/3 + 1/3) = -sqrt(6) with 4 degrees of freedom; scipy's
// ttest_ind([1,2,3], [3,4,5], equal_var=False) gives the same p.
func ExampleWelch() {
	t := stats.Welch([]float64{1, 2, 3}, []float64{3, 4, 5})
	fmt.Printf("t = %.4f, df = %.1f, p = %.4f\n", t.T, t.DF, t.P)
	// Output: t = -2.4495, df = 4.0, p = 0.0705
}

// Every run of the first sample beats every run of the second: U = 16 of
// 4 x 4 pairs, and the exact two-sided p is 2 / C(8,4) = 2/70.
func ExampleMannWhitneyU() {
	u := stats.MannWhitneyU([]float64{0.41, 0.39, 0.40, 0.42}, []float64{0.36, 0.37, 0.35, 0.38})
	fmt.Printf("U = %.0f, p = %.4f (%s)\n", u.U, u.P, u.Method)
	fmt.Printf("P(improvement) = %.2f\n", stats.ProbabilityOfImprovement([]float64{0.41, 0.39, 0.40, 0.42}, []float64{0.36, 0.37, 0.35, 0.38}))
	// Output:
	// U = 16, p = 0.0286 (exact)
	// P(improvement) = 1.00
}

// Holm's correction of three p-values: sorted 0.01, 0.02, 0.04 times 3,
// 2, 1 gives 0.03, 0.04, 0.04.
func ExampleHolm() {
	fmt.Printf("%.2f\n", stats.Holm([]float64{0.04, 0.01, 0.02}))
	// Output: [0.04 0.03 0.04]
}
