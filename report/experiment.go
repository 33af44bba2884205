package report

// The experiment report: many runs of a few configurations, their
// statistics (package stats), summary.csv, figures and report.html in the
// experiment's directory. The run report (report.go) is one run's; this is
// the comparison.

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/cifarnet/cifarnet/internal/atomicfile"
	"github.com/cifarnet/cifarnet/internal/quote"
	"github.com/cifarnet/cifarnet/stats"
	"github.com/cifarnet/cifarnet/train"
)

// Names of the files an experiment directory gets from WriteExperiment.
const (
	SummaryCSV = "summary.csv"
)

// Experiment is what the experiment report is made from: every run the
// experiment asked for, finished or not.
type Experiment struct {
	// Dir is the experiment directory, where the outputs go.
	Dir string
	// Runs are all the runs of the experiment, in its order (configuration
	// by configuration); a run whose directory has no metrics.json yet is
	// reported as missing, never left out silently.
	Runs []ExperimentRun
	// Baseline is the configuration the others are compared with; "" means
	// the first configuration.
	Baseline string
	// NamedSeed is the seed whose run is placed among the others of its
	// configuration (the exercise's single run is seed 42).
	NamedSeed uint64
	// Bootstrap sets the confidence intervals; the zero value means
	// stats.DefaultBootstrap.
	Bootstrap stats.Bootstrap
	// Named lists the named configurations and what each sets beyond
	// the base (Base), for the page; empty when the experiment has none.
	Named []NamedSettings
	Base  string
}

// NamedSettings is a named configuration and its settings in words:
// "activation=selu init=lecun_normal".
type NamedSettings struct {
	Name, Settings string
}

// ExperimentRun is one run of an experiment.
type ExperimentRun struct {
	// Dir is the run's directory (metrics.json, history.json and its own
	// report.html once it has finished).
	Dir string
	// Config labels the run's configuration, e.g. "activation=relu"; the
	// runs of one configuration share it.
	Config string
	// Factors are the values of the settings the experiment varies, in the
	// experiment's order (the same names for every run).
	Factors []Factor
	Seed    uint64

	// History and Metrics are the run's saved files; WriteExperiment reads
	// them from Dir when nil.
	History *train.History
	Metrics *train.Metrics
	// Problem says why the run's saved files cannot be used (unreadable,
	// edited, another run's), when they cannot: the run is then named
	// missing with this reason, and the others are still summarised.
	Problem string
}

// Factor is one varied setting's value in a run, e.g. {"learning_rate",
// "0.001"}.
type Factor struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Metrics compared in an experiment.
var (
	accuracyMetric = stats.Metric{Name: "test accuracy", HigherIsBetter: true}
	lossMetric     = stats.Metric{Name: "test loss"}
)

// ExperimentStats is the statistics of an experiment, as experiment.json
// holds them.
type ExperimentStats struct {
	// Methods says how each figure is computed, in words.
	Methods   []string        `json:"methods"`
	Bootstrap stats.Bootstrap `json:"bootstrap"`
	Baseline  string          `json:"baseline"`
	// Configurations holds one summary per configuration, in the
	// experiment's order.
	Configurations []ConfigStats `json:"configurations"`
	// Comparisons compares each other configuration's test accuracy with
	// the baseline's (Holm's correction over all of them).
	Comparisons []stats.Comparison `json:"comparisons"`
	// Missing names every run without a result: not finished (no
	// metrics.json) or unreadable.
	Missing []MissingRun `json:"missing"`
	// Diverged names every finished run without a finite test accuracy.
	Diverged []MissingRun `json:"diverged"`
}

// ConfigStats summarises the runs of one configuration.
type ConfigStats struct {
	Config  string   `json:"config"`
	Factors []Factor `json:"factors"`
	// Runs is the number of runs asked for; Finished of them have a
	// metrics.json.
	Runs     int `json:"runs"`
	Finished int `json:"finished"`
	// The summaries leave out runs without a finite value (counted in
	// their Missing).
	TestAccuracy stats.Summary `json:"test_accuracy"`
	TestLoss     stats.Summary `json:"test_loss"`
	EpochsRun    stats.Summary `json:"epochs_run"`
	// Named places the NamedSeed's run among the configuration's runs (nil
	// when the configuration has no finished run of that seed).
	Named *stats.Position `json:"named_seed,omitempty"`
	// Results are the finished runs' own numbers, by seed, so that every
	// figure above can be recomputed from this file alone
	// (scripts/check_stats.py does, with scipy).
	Results []RunResult `json:"results"`
}

// RunResult is one finished run's numbers; a figure it does not have (a
// diverged run's test accuracy) is NaN, written as null.
type RunResult struct {
	Seed         uint64  `json:"seed"`
	TestAccuracy float64 `json:"test_accuracy"`
	TestLoss     float64 `json:"test_loss"`
	EpochsRun    int     `json:"epochs_run"`
}

// MarshalJSON writes a non-finite figure as null.
func (r RunResult) MarshalJSON() ([]byte, error) {
	orNull := func(v float64) *float64 {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil
		}
		return &v
	}
	return json.Marshal(struct {
		Seed         uint64   `json:"seed"`
		TestAccuracy *float64 `json:"test_accuracy"`
		TestLoss     *float64 `json:"test_loss"`
		EpochsRun    int      `json:"epochs_run"`
	}{r.Seed, orNull(r.TestAccuracy), orNull(r.TestLoss), r.EpochsRun})
}

// MissingRun names a run without a result and why.
type MissingRun struct {
	Config string `json:"config"`
	Seed   uint64 `json:"seed"`
	Dir    string `json:"dir"`
	Reason string `json:"reason"`
}

// configGroup is one configuration's runs, in order.
type configGroup struct {
	name    string
	factors []Factor
	runs    []*ExperimentRun
}

// groups splits the runs by configuration, in order of first appearance,
// each configuration's runs in order of seed.
func (e *Experiment) groups() []*configGroup {
	var out []*configGroup
	by := map[string]*configGroup{}
	for i := range e.Runs {
		r := &e.Runs[i]
		g := by[r.Config]
		if g == nil {
			g = &configGroup{name: r.Config, factors: r.Factors}
			by[r.Config] = g
			out = append(out, g)
		}
		g.runs = append(g.runs, r)
	}
	// Within a configuration, by seed: the figures do not depend on the
	// order the runs were listed in (shards collect them in any order).
	for _, g := range out {
		slices.SortStableFunc(g.runs, func(a, b *ExperimentRun) int { return cmp.Compare(a.Seed, b.Seed) })
	}
	return out
}

// finished reports whether a run has its results.
func (r *ExperimentRun) finished() bool { return r.Metrics != nil && r.History != nil }

// absentOf names the files of names not in dir ("a and b"), or all of
// them if none is absent (then they could not be read).
func absentOf(dir string, names ...string) string {
	var absent []string
	for _, n := range names {
		if _, err := os.Lstat(filepath.Join(dir, n)); errors.Is(err, fs.ErrNotExist) {
			absent = append(absent, n)
		}
	}
	if len(absent) == 0 {
		absent = names
	}
	return strings.Join(absent, " or ")
}

// testAccuracy is a finished run's test accuracy, NaN if it diverged
// (see Diverged).
func (r *ExperimentRun) testAccuracy() float64 {
	if _, ok := Diverged(*r.Metrics); ok {
		return math.NaN()
	}
	return r.Metrics.TestAccuracy
}

// load reads the saved files of every run that has them; a run without
// them is missing (it stays unfinished), and one whose files cannot be
// used is missing with its Problem: one damaged run does not hide the
// others' statistics.
func (e *Experiment) load() error {
	for i := range e.Runs {
		r := &e.Runs[i]
		if r.finished() || r.Problem != "" {
			continue
		}
		h, m, err := train.ReadRun(r.Dir)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			r.Problem = RunProblem(err)
			continue
		}
		r.History, r.Metrics = h, m
	}
	return nil
}

// RunProblem words why a run's files cannot be used, briefly.
func RunProblem(err error) string {
	return quote.Line("its files cannot be used (remove its directory to run it again): "+err.Error(), 300)
}

// methods describes the statistics in words, for experiment.json and the
// page.
func methods(b stats.Bootstrap) []string {
	pct := fmt.Sprintf("%.0f%%", 100*b.Level)
	return []string{
		"n: the finished runs with a finite result; a diverged run (training stopped by a non-finite loss, or no finite test accuracy or loss) is named and left out, never averaged.",
		"Standard deviation: the sample standard deviation (n - 1 in the denominator).",
		fmt.Sprintf("%s confidence interval of the mean: bias-corrected and accelerated (BCa) bootstrap, as scipy.stats.bootstrap computes it, from %d resamples drawn with seed %d (the same runs always give the same interval).", pct, b.Resamples, b.Seed),
		"Median and quartiles: numpy's default linear interpolation; IQR = Q3 - Q1.",
		fmt.Sprintf("Difference of means against the baseline: with its %s BCa bootstrap interval, the two configurations resampled independently.", pct),
		"Welch's t-test (unequal variances, scipy.stats.ttest_ind with equal_var=False) and the Mann-Whitney U test (two-sided, scipy.stats.mannwhitneyu's defaults: exact for samples of at most 8 runs without ties, otherwise the normal approximation with tie and continuity corrections); each test's p-values are Holm-corrected over all the comparisons with the baseline.",
		fmt.Sprintf("From fewer than %d runs a bootstrap interval is too narrow: resampled from so few values it can hardly reach beyond their own range (from 2 runs the interval of the mean is about their minimum to maximum); the page marks such intervals and the sentences say so.", stats.FewRuns),
		"A difference is called detectable when both corrected p-values are below 0.05; one below and one above is reported as tentative, in the direction of the one below (the difference of means for Welch's test, the ranks, i.e. the probability of improvement, for Mann-Whitney's); where the means and the ranks point opposite ways (a few runs far from the rest) the sentence says so and names no better configuration; neither below is \"no detectable difference\", which is not evidence that the configurations are equal (and is called a hint when the uncorrected bootstrap interval of the difference leaves out zero). With few runs, or many tied results, the Mann-Whitney test cannot reach 0.05 however the runs fall (3 runs each without ties: its least p-value is 0.1, 0.2 Holm-corrected over 2 comparisons), and the sentence of each comparison whose least corrected p-value is not below 0.05 then says that nothing could be detected.",
		"Effect size: Hedges' g, the difference of means over the pooled standard deviation with the exact small-sample correction (|g| < 0.2 negligible, < 0.5 small, < 0.8 medium, else large).",
		fmt.Sprintf("Probability of improvement (rliable): the chance that a random run of a configuration beats a random run of the baseline, ties counted half, with a %s percentile bootstrap interval (%d resamples).", pct, b.Resamples),
		"Seed position: the named seed's rank among its configuration's runs (1 = best) and scipy.stats.percentileofscore's percentile.",
	}
}

// Statistics loads the runs that have finished and computes the
// experiment's statistics.
func (e *Experiment) Statistics() (*ExperimentStats, error) {
	if len(e.Runs) == 0 {
		return nil, fmt.Errorf("experiment %s: no runs", e.Dir)
	}
	b := e.Bootstrap
	if b.Resamples == 0 {
		b = stats.DefaultBootstrap
	}
	if err := e.load(); err != nil {
		return nil, err
	}
	groups := e.groups()
	// Empty lists, not null, in experiment.json.
	st := &ExperimentStats{Methods: methods(b), Bootstrap: b, Missing: []MissingRun{}, Diverged: []MissingRun{}, Comparisons: []stats.Comparison{}}
	var samples []stats.Sample
	baseIndex := 0
	for i, g := range groups {
		if g.name == e.Baseline {
			baseIndex = i
		}
		var acc, loss, epochs []float64
		cs := ConfigStats{Config: g.name, Factors: g.factors, Runs: len(g.runs), Results: []RunResult{}}
		var named *ExperimentRun
		for _, r := range g.runs {
			if !r.finished() {
				reason := "not finished: no " + train.MetricsJSON + " or " + train.HistoryJSON
				if r.Dir != "" {
					reason = "not finished: no " + absentOf(r.Dir, train.MetricsJSON, train.HistoryJSON)
				}
				if r.Problem != "" {
					reason = r.Problem
				}
				st.Missing = append(st.Missing, MissingRun{r.Config, r.Seed, r.Dir, reason})
				continue
			}
			cs.Finished++
			m := *r.Metrics
			if reason, ok := Diverged(m); ok {
				// Its figures are those of NaN weights (the accuracy of
				// whichever class argmax picks from NaN): left out.
				m.TestAccuracy, m.TestLoss = math.NaN(), math.NaN()
				st.Diverged = append(st.Diverged, MissingRun{r.Config, r.Seed, r.Dir, reason})
			}
			cs.Results = append(cs.Results, RunResult{r.Seed, m.TestAccuracy, m.TestLoss, m.EpochsRun})
			acc = append(acc, m.TestAccuracy)
			loss = append(loss, m.TestLoss)
			epochs = append(epochs, float64(m.EpochsRun))
			if r.Seed == e.NamedSeed {
				named = r
			}
		}
		cs.TestAccuracy = stats.Describe(acc, b)
		cs.TestLoss = stats.Describe(loss, b)
		cs.EpochsRun = stats.Describe(epochs, b)
		if named != nil && len(stats.Finite(acc)) > 1 {
			p := stats.Locate(accuracyMetric, acc, named.testAccuracy(), fmt.Sprintf("Seed %d", e.NamedSeed))
			cs.Named = &p
		}
		st.Configurations = append(st.Configurations, cs)
		samples = append(samples, stats.Sample{Name: g.name, Values: acc})
	}
	if e.Baseline != "" && groups[baseIndex].name != e.Baseline {
		return nil, fmt.Errorf("experiment %s: baseline %q is not one of its configurations", e.Dir, e.Baseline)
	}
	st.Baseline = groups[baseIndex].name
	if len(samples) > 1 {
		others := append(append([]stats.Sample(nil), samples[:baseIndex]...), samples[baseIndex+1:]...)
		st.Comparisons = stats.Compare(accuracyMetric, samples[baseIndex], others, b)
	}
	return st, nil
}

// Diverged tells whether a finished run diverged, and why: its test loss
// or accuracy is not finite. A model with non-finite weights has a NaN
// loss, while its accuracy is that of whichever class argmax picks from
// NaN (a tenth on CIFAR-10), so the loss tells. A run whose training a
// non-finite loss stopped (Keras's TerminateOnNaN) but whose early
// stopping restored finite best weights has a real result, and counts.
func Diverged(m train.Metrics) (string, bool) {
	why := ""
	switch {
	case !finite(m.TestAccuracy):
		why = "no finite test accuracy"
	case !finite(m.TestLoss):
		why = "no finite test loss"
	default:
		return "", false
	}
	if m.Terminated != "" {
		why += ": " + m.Terminated
	}
	return why, true
}

// WriteExperiment computes the statistics of e and writes summary.csv,
// the figures and report.html into e.Dir; it returns the statistics for
// experiment.json.
func WriteExperiment(e Experiment) (*ExperimentStats, error) {
	st, err := e.Statistics()
	if err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(filepath.Join(e.Dir, SummaryCSV), summaryCSV(st), 0o644); err != nil {
		return nil, err
	}
	figs, err := e.figures(st)
	if err != nil {
		return nil, err
	}
	html, err := experimentHTML(&e, st, figs)
	if err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(filepath.Join(e.Dir, HTMLFile), html, 0o644); err != nil {
		return nil, err
	}
	return st, nil
}

// expConfigs are the configurations of st as the figures draw them, each
// with its finished runs.
func (e *Experiment) expConfigs(st *ExperimentStats) []*expConfig {
	var configs []*expConfig
	for i, g := range e.groups() {
		cf := &expConfig{ConfigStats: st.Configurations[i], col: Palette[i%len(Palette)]}
		for _, r := range g.runs {
			if r.finished() {
				cf.runs = append(cf.runs, r)
			}
		}
		configs = append(configs, cf)
	}
	return configs
}

// figures draws the experiment's figures into e.Dir as PNG and SVG.
func (e *Experiment) figures(st *ExperimentStats) ([]Figure, error) {
	configs := e.expConfigs(st)
	level := st.Bootstrap.Level
	pct := fmt.Sprintf("%.0f%%", 100*level)
	left := ""
	if n := len(st.Missing) + len(st.Diverged); n > 0 {
		left = fmt.Sprintf(" %d runs without a test accuracy (missing or diverged) are not drawn; they are named above.", n)
		if n == 1 {
			left = " 1 run without a test accuracy (missing or diverged) is not drawn; it is named above."
		}
	}
	// The curves leave diverged runs out, as the statistics do; the
	// legend says whose.
	curvesLeft := ""
	if n := len(st.Diverged); n == 1 {
		curvesLeft = " 1 diverged run is left out of the means and bands, as it is of the statistics."
	} else if n > 1 {
		curvesLeft = fmt.Sprintf(" %d diverged runs are left out of the means and bands, as they are of the statistics.", n)
	}
	overlap := ""
	if len(configs) > 1 {
		overlap = " Overlapping boxes mean that single runs of two configurations often swap order."
	}
	ringed := ""
	if ranSeed(configs, e.NamedSeed) {
		ringed = fmt.Sprintf(" (the ringed one is seed %d)", e.NamedSeed)
	}
	type spec struct {
		fig  Figure
		make func() (*chart, error)
	}
	specs := []spec{
		{Figure{Name: "accuracy_box", Title: "Test accuracy of every run",
			Caption: fmt.Sprintf("Each dot is one run%s; the box spans the middle half of the runs (first to third quartile) with the median across it, the whiskers reach the lowest and highest run. Beside each box, the triangle is the mean and the bar its %s confidence interval, a range made to hold the configuration's mean over all seeds in %s of experiments.%s%s", ringed, pct, pct, overlap, left)},
			func() (*chart, error) { return accuracyBoxPlot(configs, e.NamedSeed, level) }},
		{Figure{Name: "val_loss_curves", Title: "Validation loss per epoch",
			Caption: "The mean validation loss of each configuration's runs, epoch by epoch, with a band of one standard deviation either side (the spread of single runs, not the uncertainty of the mean). A curve ends where early stopping has ended half of its runs: later means would describe only the runs still training." + curvesLeft},
			func() (*chart, error) {
				return curvesPlot(configs, "val_loss", "Mean validation loss per configuration")
			}},
		{Figure{Name: "val_accuracy_curves", Title: "Validation accuracy per epoch",
			Caption: "The same for validation accuracy: mean of the runs with one standard deviation either side, while at least half of the runs are training." + curvesLeft},
			func() (*chart, error) {
				return curvesPlot(configs, "val_accuracy", "Mean validation accuracy per configuration")
			}},
	}
	for _, f := range numericFactors(configs) {
		specs = append(specs, spec{Figure{Name: "accuracy_vs_" + fileSafe(f), Title: "Test accuracy against " + f,
			Caption: fmt.Sprintf("Every run's test accuracy (faint dots) and each configuration's mean with its %s confidence interval, against %s; a line joins the configurations that differ only in %s.", pct, f, f)},
			func() (*chart, error) { return factorPlot(configs, f, level) }})
	}
	figs := make([]Figure, len(specs))
	err := each(len(specs), 0, func(i int) error {
		s := specs[i]
		ch, err := s.make()
		if err != nil {
			return fmt.Errorf("experiment report: %s: %v", s.fig.Name, err)
		}
		fig := s.fig
		fig.geom = ch.geometry()
		if fig.png, err = render(drawing{w: ch.w, h: ch.h, draw: ch.draw, chart: ch}, filepath.Join(e.Dir, fig.Name)); err != nil {
			return err
		}
		figs[i] = fig
		return nil
	})
	if err != nil {
		return nil, err
	}
	return figs, nil
}

// fileSafe keeps letters, digits, '-' and '_' of a factor's name for a file
// name.
func fileSafe(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// summaryCSV is a row per configuration: its factors, its runs, the
// summaries of test accuracy, test loss and epochs, and the comparison
// with the baseline (empty for the baseline itself). An undefined figure
// is an empty field.
func summaryCSV(st *ExperimentStats) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	var factorNames []string
	if len(st.Configurations) > 0 {
		for _, f := range st.Configurations[0].Factors {
			factorNames = append(factorNames, f.Name)
		}
	}
	head := append([]string{"config"}, factorNames...)
	head = append(head, "runs", "finished")
	for _, m := range []string{"test_accuracy", "test_loss", "epochs_run"} {
		for _, s := range []string{"n", "missing", "mean", "sd", "ci_low", "ci_high", "median", "q1", "q3", "iqr", "min", "max"} {
			head = append(head, m+"_"+s)
		}
	}
	head = append(head, "baseline", "diff", "diff_ci_low", "diff_ci_high", "welch_t", "welch_df", "welch_p", "welch_p_holm",
		"mann_whitney_u", "mann_whitney_p", "mann_whitney_p_holm", "mann_whitney_method", "hedges_g",
		"probability_of_improvement", "improvement_ci_low", "improvement_ci_high")
	w.Write(head)
	cmp := map[string]stats.Comparison{}
	for _, c := range st.Comparisons {
		cmp[c.Name] = c
	}
	for _, cs := range st.Configurations {
		row := []string{cs.Config}
		for _, f := range cs.Factors {
			row = append(row, f.Value)
		}
		row = append(row, strconv.Itoa(cs.Runs), strconv.Itoa(cs.Finished))
		for _, s := range []stats.Summary{cs.TestAccuracy, cs.TestLoss, cs.EpochsRun} {
			row = append(row, strconv.Itoa(s.N), strconv.Itoa(s.Missing))
			for _, v := range []float64{s.Mean, s.SD, s.CILow, s.CIHigh, s.Median, s.Q1, s.Q3, s.IQR(), s.Min, s.Max} {
				row = append(row, csvFloat(v))
			}
		}
		if c, ok := cmp[cs.Config]; ok {
			row = append(row, c.Baseline)
			for _, v := range []float64{c.Diff, c.DiffLow, c.DiffHigh, c.Welch.T, c.Welch.DF, c.Welch.P, c.WelchHolm, c.MannWhitney.U, c.MannWhitney.P, c.MannWhitneyHolm} {
				row = append(row, csvFloat(v))
			}
			row = append(row, c.MannWhitney.Method)
			for _, v := range []float64{c.HedgesG, c.Improvement, c.ImprovementLow, c.ImprovementHigh} {
				row = append(row, csvFloat(v))
			}
		} else {
			for range 16 {
				row = append(row, "")
			}
		}
		w.Write(row)
	}
	w.Flush()
	return b.Bytes()
}

// csvFloat writes v in the shortest form that reads back exactly; an
// undefined figure is an empty field.
func csvFloat(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
