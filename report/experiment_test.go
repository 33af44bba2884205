package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/recorder"

	"github.com/cifarnet/cifarnet/stats"
	"github.com/cifarnet/cifarnet/train"
)

// syntheticExperiment writes made-up runs: two learning rates (0.001 as
// the baseline, 0.01) x an activation, 6 seeds each; the 0.01 runs are
// better by about 0.05. Seed 5 of "lr=0.01 elu" never finished and seed 4
// of "lr=0.001 relu" diverged.
func syntheticExperiment(t *testing.T) Experiment {
	t.Helper()
	dir := t.TempDir()
	e := Experiment{Dir: dir, NamedSeed: 2}
	for _, c := range []struct {
		lr, act string
		base    float64
	}{{"0.001", "elu", 0.35}, {"0.01", "elu", 0.40}, {"0.001", "relu", 0.34}, {"0.01", "relu", 0.39}} {
		label := "lr=" + c.lr + " " + c.act
		for seed := range uint64(6) {
			run := ExperimentRun{
				Dir: filepath.Join(dir, "runs", fmt.Sprintf("%s-%s-%d", c.lr, c.act, seed)), Config: label, Seed: seed,
				Factors: []Factor{{"learning_rate", c.lr}, {"activation", c.act}},
			}
			e.Runs = append(e.Runs, run)
			if label == "lr=0.01 elu" && seed == 5 {
				continue
			}
			acc := c.base + 0.01*float64((seed*7)%5) - 0.02
			if label == "lr=0.001 relu" && seed == 4 {
				acc = math.NaN()
			}
			epochs := 5 + int(seed%3)
			h := &train.History{}
			for ep := 1; ep <= epochs; ep++ {
				h.Epochs = append(h.Epochs, train.Epoch{Epoch: ep, Logs: train.Logs{
					Loss: 2 - 0.1*float64(ep), Accuracy: 0.2 + 0.03*float64(ep),
					ValLoss: 2.1 - 0.08*float64(ep) + 0.01*float64(seed), ValAccuracy: acc - 0.1 + 0.02*float64(ep), HasVal: true}})
			}
			m := train.Metrics{TestAccuracy: acc, TestLoss: 1.8 - acc, EpochsRun: epochs, BestEpoch: epochs, Seed: seed, Config: train.Exercise()}
			if math.IsNaN(acc) {
				// As a real one records it: NaN weights put every test
				// image in class 0, a tenth of them right.
				m.TestAccuracy, m.TestLoss, m.Terminated = 0.1, math.NaN(), "loss became NaN at epoch 3"
			}
			if err := os.MkdirAll(run.Dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := train.WriteRun(run.Dir, h, m); err != nil {
				t.Fatal(err)
			}
		}
	}
	return e
}

func TestExperimentStatistics(t *testing.T) {
	e := syntheticExperiment(t)
	st, err := WriteExperiment(e)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Configurations) != 4 || st.Baseline != "lr=0.001 elu" || len(st.Comparisons) != 3 {
		t.Fatalf("%d configurations, baseline %q, %d comparisons", len(st.Configurations), st.Baseline, len(st.Comparisons))
	}
	if len(st.Missing) != 1 || st.Missing[0].Config != "lr=0.01 elu" || st.Missing[0].Seed != 5 {
		t.Errorf("missing: %+v", st.Missing)
	}
	if len(st.Diverged) != 1 || st.Diverged[0].Seed != 4 || !strings.Contains(st.Diverged[0].Reason, "NaN") {
		t.Errorf("diverged: %+v", st.Diverged)
	}
	// One of each: "1 run missing", not "1 runs missing".
	if page, err := os.ReadFile(filepath.Join(e.Dir, "report.html")); err != nil || !strings.Contains(string(page), ">run missing<") || !strings.Contains(string(page), ">run diverged<") {
		t.Errorf("report.html does not count one missing and one diverged run in the singular (%v)", err)
	}
	// The figures are the stats package's, on the runs' own numbers.
	var base []float64
	for _, r := range e.Runs[:6] {
		_, m, err := train.ReadRun(r.Dir)
		if err != nil {
			t.Fatal(err)
		}
		base = append(base, m.TestAccuracy)
	}
	want := stats.Describe(base, stats.DefaultBootstrap)
	if got := st.Configurations[0].TestAccuracy; got != want {
		t.Errorf("baseline summary %+v, want %+v", got, want)
	}
	c1, c2 := st.Configurations[1], st.Configurations[2]
	if c1.Runs != 6 || c1.Finished != 5 || c1.TestAccuracy.N != 5 {
		t.Errorf("lr=0.01 elu: %d runs, %d finished, n = %d", c1.Runs, c1.Finished, c1.TestAccuracy.N)
	}
	if c2.Finished != 6 || c2.TestAccuracy.N != 5 || c2.TestAccuracy.Missing != 1 {
		t.Errorf("lr=0.001 relu: %d finished, n = %d, missing %d", c2.Finished, c2.TestAccuracy.N, c2.TestAccuracy.Missing)
	}
	if st.Configurations[0].Named == nil || st.Configurations[0].Named.Value != base[2] {
		t.Errorf("seed 2's position: %+v", st.Configurations[0].Named)
	}
	if st.Comparisons[0].Name != "lr=0.01 elu" || !(st.Comparisons[0].Diff > 0.04) {
		t.Errorf("comparison: %+v", st.Comparisons[0])
	}
	if _, err := json.Marshal(st); err != nil {
		t.Errorf("statistics to JSON: %v", err)
	}

	// summary.csv: a header and a row per configuration, factors as columns,
	// an empty comparison for the baseline.
	f, err := os.Open(filepath.Join(e.Dir, SummaryCSV))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 {
		t.Fatalf("%d rows in summary.csv, want 5", len(rows))
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	if rows[1][col["learning_rate"]] != "0.001" || rows[3][col["activation"]] != "relu" {
		t.Errorf("factor columns: %v", rows[1:])
	}
	if mean, _ := strconv.ParseFloat(rows[1][col["test_accuracy_mean"]], 64); mean != want.Mean {
		t.Errorf("baseline mean in summary.csv %v, want %v", mean, want.Mean)
	}
	if rows[1][col["welch_p"]] != "" || rows[2][col["welch_p"]] == "" {
		t.Errorf("welch_p: baseline %q, other %q", rows[1][col["welch_p"]], rows[2][col["welch_p"]])
	}
	if rows[3][col["test_accuracy_missing"]] != "1" {
		t.Errorf("diverged run not counted: %q", rows[3][col["test_accuracy_missing"]])
	}
}

func TestExperimentBadInput(t *testing.T) {
	if _, err := WriteExperiment(Experiment{Dir: t.TempDir()}); err == nil {
		t.Error("no runs: no error")
	}
	e := syntheticExperiment(t)
	e.Baseline = "lr=1"
	if _, err := WriteExperiment(e); err == nil || !strings.Contains(err.Error(), `baseline "lr=1"`) {
		t.Errorf("unknown baseline: %v", err)
	}
	e = syntheticExperiment(t)
	if err := os.WriteFile(filepath.Join(e.Runs[0].Dir, train.MetricsJSON), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A damaged run is named missing with its reason, beside the one
	// never run; the others are still summarised.
	st, err := WriteExperiment(e)
	if err != nil {
		t.Fatalf("corrupt metrics.json failed the experiment: %v", err)
	}
	if len(st.Missing) != 2 || st.Missing[0].Dir != e.Runs[0].Dir || !strings.Contains(st.Missing[0].Reason, train.MetricsJSON) {
		t.Errorf("corrupt metrics.json: missing %+v", st.Missing)
	}
	// An interrupted run (its history so far, no metrics.json) is named
	// by the file it lacks, not said to lack its history too.
	e = syntheticExperiment(t)
	if err := os.Remove(filepath.Join(e.Runs[0].Dir, train.MetricsJSON)); err != nil {
		t.Fatal(err)
	}
	st, err = WriteExperiment(e)
	if err != nil {
		t.Fatal(err)
	}
	if want := "not finished: no " + train.MetricsJSON; len(st.Missing) == 0 || st.Missing[0].Reason != want {
		t.Errorf("interrupted run: missing %+v, want the reason %q", st.Missing, want)
	}
}

func TestExperimentFigures(t *testing.T) {
	e := syntheticExperiment(t)
	st, err := WriteExperiment(e)
	if err != nil {
		t.Fatal(err)
	}
	// Two factors, one of them numeric: box, two curves, one factor plot.
	for _, name := range []string{"accuracy_box", "val_loss_curves", "val_accuracy_curves", "accuracy_vs_learning_rate"} {
		for _, ext := range []string{".png", ".svg"} {
			if fi, err := os.Stat(filepath.Join(e.Dir, name+ext)); err != nil || fi.Size() < 1000 {
				t.Errorf("%s%s: %v", name, ext, err)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(e.Dir, "accuracy_vs_activation.png")); err == nil {
		t.Error("a plot against the non-numeric factor activation")
	}
	page, err := os.ReadFile(filepath.Join(e.Dir, HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	html := string(page)
	for _, want := range []string{
		st.Comparisons[0].Sentence[:40], // the sentences, HTML-escaped as needed
		"lr=0.01 elu, seed 5: not finished", "lr=0.001 relu, seed 4: diverged",
		"BCa", "Holm", "Hedges", "rliable",
	} {
		if !strings.Contains(html, template.HTMLEscapeString(want)) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	if !strings.Contains(html, `href="summary.csv"`) {
		t.Error("report.html does not link summary.csv")
	}
	// The hover layer of the box plot holds every finished run with a
	// finite accuracy: 24 runs, one missing, one diverged.
	if n := strings.Count(html, `data-group="run"`); n != 22+22 {
		// 22 in the box plot and 22 in the factor plot.
		t.Errorf("%d run hover targets, want 44", n)
	}
}

func TestExperimentRunLinks(t *testing.T) {
	e := syntheticExperiment(t)
	// Give one run its own report; the page links it relative to itself.
	if err := os.WriteFile(filepath.Join(e.Runs[1].Dir, HTMLFile), []byte("<html></html>"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteExperiment(e); err != nil {
		t.Fatal(err)
	}
	page, _ := os.ReadFile(filepath.Join(e.Dir, HTMLFile))
	if want := `href="runs/0.001-elu-1/report.html"`; !strings.Contains(string(page), want) {
		t.Errorf("report.html lacks the link %s", want)
	}
}

func TestMeanCurveStopsAtHalf(t *testing.T) {
	// Runs of 5, 6 and 7 epochs: at least 2 of 3 must be training, so the
	// curve has 6 epochs; epoch 6's mean is over the two longer runs.
	e := syntheticExperiment(t)
	if _, err := e.Statistics(); err != nil {
		t.Fatal(err)
	}
	runs := []*ExperimentRun{&e.Runs[0], &e.Runs[1], &e.Runs[2]} // seeds 0, 1, 2: 5, 6, 7 epochs
	b := meanCurve(runs, "val_loss")
	if len(b.epochs) != 6 || b.n[5] != 2 || b.n[0] != 3 {
		t.Fatalf("epochs %v, runs per epoch %v", b.epochs, b.n)
	}
	want := (e.Runs[1].History.Epochs[5].ValLoss + e.Runs[2].History.Epochs[5].ValLoss) / 2
	if math.Abs(b.mean[5]-want) > 1e-15 {
		t.Errorf("epoch 6 mean %v, want %v", b.mean[5], want)
	}
}

// TestExperimentReportInChromium opens the experiment's report.html in
// headless Chromium: every figure must decode (the page's own check) and
// the comparison table must be there.
func TestExperimentReportInChromium(t *testing.T) {
	browser, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CIFARNET_REQUIRE_BROWSER") != "" {
			t.Fatal("chromium not installed (Debian package chromium)")
		}
		t.Skip("chromium not installed (Debian package chromium)")
	}
	e := syntheticExperiment(t)
	if _, err := WriteExperiment(e); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(browser, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000",
		"--dump-dom", "file://"+filepath.Join(e.Dir, HTMLFile)).Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	dom := string(out)
	if want := "4 of 4 figures loaded"; !strings.Contains(dom, want) {
		m := regexp.MustCompile(`id="figure-status">[^<]*`).FindString(dom)
		t.Fatalf("page says %q, want %q", m, want)
	}
	if !strings.Contains(dom, `id="comparisons"`) || !strings.Contains(dom, `id="runs">23 / 24<`) {
		t.Fatal("page lacks the comparisons table or the count of finished runs")
	}
}

// TestExperimentOrderDoesNotMatter: runs listed in another order (as
// shards collect them) give the same summary.csv, statistics and figures.
func TestExperimentOrderDoesNotMatter(t *testing.T) {
	e := syntheticExperiment(t)
	st1, err := WriteExperiment(e)
	if err != nil {
		t.Fatal(err)
	}
	csv1, _ := os.ReadFile(filepath.Join(e.Dir, SummaryCSV))
	svg1, _ := os.ReadFile(filepath.Join(e.Dir, "accuracy_box.svg"))
	// Reverse the runs within each configuration (keeping the order of
	// the configurations, which is the experiment's), dropping the loaded
	// files so they are read again.
	for i := 0; i < len(e.Runs); i += 6 {
		slices.Reverse(e.Runs[i : i+6])
	}
	for i := range e.Runs {
		e.Runs[i].History, e.Runs[i].Metrics = nil, nil
	}
	st2, err := WriteExperiment(e)
	if err != nil {
		t.Fatal(err)
	}
	csv2, _ := os.ReadFile(filepath.Join(e.Dir, SummaryCSV))
	svg2, _ := os.ReadFile(filepath.Join(e.Dir, "accuracy_box.svg"))
	j1, _ := json.Marshal(st1)
	j2, _ := json.Marshal(st2)
	if string(csv1) != string(csv2) || string(j1) != string(j2) || string(svg1) != string(svg2) {
		t.Error("the order of the runs changed the outputs")
	}
}

// TestExperimentStatisticsAgainstScipy runs scripts/check_stats.py, which
// recomputes every figure of the statistics from the runs' numbers in their
// JSON with numpy and scipy, on the synthetic experiment (a missing and a
// diverged run included). CI sets CIFARNET_REQUIRE_SCIPY=1 so that a
// missing scipy fails rather than skips.
func TestExperimentStatisticsAgainstScipy(t *testing.T) {
	const python = "/usr/bin/python3" // Debian's, with python3-scipy
	if err := exec.Command(python, "-c", "import scipy.stats").Run(); err != nil {
		if os.Getenv("CIFARNET_REQUIRE_SCIPY") != "" {
			t.Fatalf("CIFARNET_REQUIRE_SCIPY is set but %s cannot import scipy.stats: %v", python, err)
		}
		t.Skipf("no scipy (%v); set CIFARNET_REQUIRE_SCIPY=1 to fail instead", err)
	}
	e := syntheticExperiment(t)
	st, err := WriteExperiment(e)
	if err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(map[string]any{"spec": "whatever the experiment writes", "statistics": st})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(e.Dir, "experiment.json")
	if err := os.WriteFile(file, js, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(python, "../scripts/check_stats.py", file).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "\n0 mismatches") {
		t.Fatalf("check_stats.py: %v\n%s", err, out)
	}
	// It can fail: a figure off by a little is caught.
	st.Comparisons[1].Welch.P += 1e-6
	st.Configurations[2].TestAccuracy.Q3 += 1e-6
	js, _ = json.Marshal(st)
	os.WriteFile(file, js, 0o644)
	out, err = exec.Command(python, "../scripts/check_stats.py", file).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "\n2 mismatches") {
		t.Fatalf("check_stats.py missed two wrong figures: %v\n%s", err, out)
	}
}

// TestNamedSeedMarkedOnlyWhenRun wants the box plot's ringed run and its
// legend entry only when the named seed is among the runs.
func TestNamedSeedMarkedOnlyWhenRun(t *testing.T) {
	for _, tt := range []struct {
		named uint64
		want  bool
	}{{2, true}, {42, false}} {
		e := syntheticExperiment(t)
		e.NamedSeed = tt.named
		if _, err := WriteExperiment(e); err != nil {
			t.Fatal(err)
		}
		page, err := os.ReadFile(filepath.Join(e.Dir, HTMLFile))
		if err != nil {
			t.Fatal(err)
		}
		svg, err := os.ReadFile(filepath.Join(e.Dir, "accuracy_box.svg"))
		if err != nil {
			t.Fatal(err)
		}
		label := fmt.Sprintf("seed %d", tt.named)
		if got := strings.Contains(string(page), "the ringed one is "+label); got != tt.want {
			t.Errorf("named seed %d: caption names the ringed run: %v, want %v", tt.named, got, tt.want)
		}
		if got := strings.Contains(string(svg), ">"+label+"<"); got != tt.want {
			t.Errorf("named seed %d: legend entry %q: %v, want %v", tt.named, label, got, tt.want)
		}
	}
}

// TestExperimentPageNamesDataAndConfigs: the page's title names the runs'
// data set (it said CIFAR-10 for an MNIST experiment), and lists the named
// configurations with their settings.
func TestExperimentPageNamesDataAndConfigs(t *testing.T) {
	run := func(dataset string) ExperimentRun {
		c := train.Exercise()
		c.Dataset = dataset
		return ExperimentRun{Metrics: &train.Metrics{Config: c}, History: &train.History{}}
	}
	for _, tt := range []struct {
		runs []ExperimentRun
		want string
	}{
		{[]ExperimentRun{run("mnist"), run("mnist"), {}}, "MNIST"},
		{[]ExperimentRun{run(""), run("cifar10")}, "CIFAR-10"},
		{[]ExperimentRun{run("mnist"), run("fashion_mnist")}, "Mixed data sets"},
	} {
		if got := experimentDataset(&Experiment{Runs: tt.runs}); got != tt.want {
			t.Errorf("%s: %q", tt.want, got)
		}
	}
	e := syntheticExperiment(t)
	e.Named = []NamedSettings{{"lr=0.001 elu", ""}, {"selu", "activation=selu init=lecun_normal"}}
	e.Base = "epochs=20"
	if _, err := WriteExperiment(e); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(e.Dir, HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, want := range []string{"<h1>CIFAR-10 experiment</h1>", `id="named-configs"`, "<td>selu</td><td>activation=selu init=lecun_normal</td>",
		"<td>none: the base itself</td>", "The base settings of every run: epochs=20.", "(named; activation varied)",
		// 6 runs a configuration: every interval marked, and why.
		"* From fewer than 10 runs a bootstrap interval is too narrow"} {
		if !strings.Contains(page, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	if got, want := strings.Count(page, "*</td>"), strings.Count(page, "<tr class=\"best\">")+strings.Count(page, "<tr><td>"); got == 0 || got > want {
		t.Errorf("%d intervals marked as from too few runs", got)
	}
}

// TestExperimentSingularCounts: an experiment of one configuration with
// one run missing says "1 configuration" and "1 run ... is not drawn",
// not "1 configurations" and "1 runs ... are".
func TestExperimentSingularCounts(t *testing.T) {
	e := syntheticExperiment(t)
	var runs []ExperimentRun
	for _, r := range e.Runs {
		if r.Config == "lr=0.01 elu" { // seed 5 never finished
			runs = append(runs, r)
		}
	}
	e.Runs = runs
	if _, err := WriteExperiment(e); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(e.Dir, HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"experiment: 1 configuration, 5 of 6 runs</title>", "1 run without a test accuracy (missing or diverged) is not drawn; it is named above."} {
		if !strings.Contains(string(page), s) {
			t.Errorf("the experiment's page lacks %q", s)
		}
	}
	if m := regexp.MustCompile(`(^|[^0-9.])1 (run|configuration)s\b`).Find(page); m != nil {
		t.Errorf("the experiment's page says %q", m)
	}
}

// TestDiverged: a run is diverged when its test results are not finite
// (NaN weights score a tenth on CIFAR-10, with a NaN loss); one whose
// training a NaN loss stopped but whose early stopping restored finite
// weights has a real result.
func TestDiverged(t *testing.T) {
	for _, c := range []struct {
		m    train.Metrics
		want bool
	}{
		{train.Metrics{TestAccuracy: 0.1, TestLoss: math.NaN(), Terminated: "loss became NaN at epoch 1, step 2"}, true},
		{train.Metrics{TestAccuracy: 0.38, TestLoss: 1.8, Terminated: "loss became NaN at epoch 9, step 5"}, false},
		{train.Metrics{TestAccuracy: math.NaN(), TestLoss: 1.8}, true},
		{train.Metrics{TestAccuracy: 0.38, TestLoss: math.Inf(1)}, true},
		{train.Metrics{TestAccuracy: 0.38, TestLoss: 1.8}, false},
	} {
		why, got := Diverged(c.m)
		if got != c.want || (got && c.m.Terminated != "" && !strings.Contains(why, c.m.Terminated)) {
			t.Errorf("%+v: diverged %v (%q), want %v", c.m, got, why, c.want)
		}
	}
}

// memRun is a finished run held in memory, with its validation loss and
// accuracy per epoch; a NaN test loss makes it diverged (see Diverged).
func memRun(config string, seed uint64, acc, testLoss float64, valLoss, valAcc []float64) ExperimentRun {
	h := &train.History{}
	for i := range valLoss {
		h.Epochs = append(h.Epochs, train.Epoch{Epoch: i + 1, Logs: train.Logs{Loss: 1, Accuracy: 0.3, ValLoss: valLoss[i], ValAccuracy: valAcc[i], HasVal: true}})
	}
	m := &train.Metrics{TestAccuracy: acc, TestLoss: testLoss, EpochsRun: len(valLoss), BestEpoch: len(valLoss), Seed: seed}
	if math.IsNaN(testLoss) {
		m.Terminated = "loss became NaN"
	}
	return ExperimentRun{Config: config, Factors: []Factor{{"max-lr", strings.TrimPrefix(config, "max-lr=")}}, Seed: seed, History: h, Metrics: m}
}

// divergingExperiment is three configurations of three runs: "max-lr=0.01"
// trains, "max-lr=0.1" has one run whose validation loss reached 330,000
// before NaN, "max-lr=1" diverged in every run.
func divergingExperiment(t *testing.T) Experiment {
	t.Helper()
	e := Experiment{Dir: t.TempDir(), NamedSeed: 99}
	nan := math.NaN()
	for seed := range uint64(3) {
		d := 0.01 * float64(seed)
		e.Runs = append(e.Runs, memRun("max-lr=0.01", seed, 0.4+d, 1.7, []float64{2 + d, 1.8 + d, 1.7 + d}, []float64{0.3 + d, 0.35 + d, 0.4 + d}))
	}
	e.Runs = append(e.Runs,
		memRun("max-lr=0.1", 0, 0.35, 1.9, []float64{2.1, 1.95, 1.9}, []float64{0.3, 0.33, 0.35}),
		memRun("max-lr=0.1", 1, 0.34, 1.9, []float64{2.2, 2, 1.9}, []float64{0.29, 0.32, 0.34}),
		memRun("max-lr=0.1", 2, 0.1, nan, []float64{330000, 5e7, nan}, []float64{0.1, 0.1, 0.1}))
	for seed := range uint64(3) {
		e.Runs = append(e.Runs, memRun("max-lr=1", seed, 0.1, nan, []float64{1e6, nan}, []float64{0.1, 0.1}))
	}
	return e
}

// TestCurvesLeaveOutDiverged: the mean curves and their bands leave out
// the runs that diverged, as the statistics do (one run's 330,000 made a
// configuration's mean and flattened every other curve), and the legend
// and the caption say how many; a configuration whose runs all diverged
// is named in the legend, not silently missing.
func TestCurvesLeaveOutDiverged(t *testing.T) {
	e := divergingExperiment(t)
	st, err := e.Statistics()
	if err != nil {
		t.Fatal(err)
	}
	configs := e.expConfigs(st)
	b := meanCurve(configs[1].runs, "val_loss")
	if len(b.epochs) != 3 || b.n[0] != 2 || math.Abs(b.mean[0]-2.15) > 1e-12 || b.hi[1] > 3 {
		t.Errorf("max-lr=0.1: epochs %v, runs %v, means %v, band to %v; want 3 epochs of the 2 runs that did not diverge", b.epochs, b.n, b.mean, b.hi)
	}
	if b := meanCurve(configs[2].runs, "val_loss"); len(b.epochs) != 0 {
		t.Errorf("max-lr=1, every run diverged: a curve of %v", b.mean)
	}
	ch, err := curvesPlot(configs, "val_loss", "loss")
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, l := range ch.legend {
		labels = append(labels, l.label)
	}
	want := []string{"max-lr=0.01", "max-lr=0.1 (1 diverged run left out)", "max-lr=1: 3 diverged runs left out"}
	if !slices.Equal(labels, want) {
		t.Errorf("legend %q, want %q", labels, want)
	}
	if _, err := WriteExperiment(e); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(e.Dir, HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(page), "4 diverged runs are left out of the means and bands"); n != 2 {
		t.Errorf("%d curve captions say that 4 diverged runs are left out, want 2", n)
	}
}

// TestCurveBandWithinRange: one standard deviation either side of a
// skewed metric's mean reaches where no run can be (a loss below 0, an
// accuracy above 1); the band stops at the metric's range.
func TestCurveBandWithinRange(t *testing.T) {
	e := Experiment{Dir: t.TempDir()}
	for seed, v := range []struct{ loss, acc float64 }{{0.1, 0.99}, {0.1, 0.99}, {3, 0.5}} {
		e.Runs = append(e.Runs, memRun("a", uint64(seed), v.acc, v.loss, []float64{v.loss}, []float64{v.acc}))
	}
	var runs []*ExperimentRun
	for i := range e.Runs {
		runs = append(runs, &e.Runs[i])
	}
	loss := meanCurve(runs, "val_loss")
	if loss.lo[0] != 0 || !(loss.mean[0]-loss.sd[0] < 0) || loss.hi[0] != loss.mean[0]+loss.sd[0] {
		t.Errorf("val_loss: mean %v, SD %v, band %v to %v; want it from 0", loss.mean, loss.sd, loss.lo, loss.hi)
	}
	acc := meanCurve(runs, "val_accuracy")
	if acc.hi[0] != 1 || !(acc.mean[0]+acc.sd[0] > 1) || acc.lo[0] != acc.mean[0]-acc.sd[0] {
		t.Errorf("val_accuracy: mean %v, SD %v, band %v to %v; want it to 1", acc.mean, acc.sd, acc.lo, acc.hi)
	}
}

// TestBoxSaysDiverged: a configuration whose runs all diverged is not an
// empty column without a word: its column says "3 diverged"; one that
// lost some says how many are left out.
func TestBoxSaysDiverged(t *testing.T) {
	e := divergingExperiment(t)
	// A configuration none of whose runs finished says so too.
	e.Runs = append(e.Runs, ExperimentRun{Config: "max-lr=2", Factors: []Factor{{"max-lr", "2"}}, Dir: filepath.Join(e.Dir, "none")})
	st, err := e.Statistics()
	if err != nil {
		t.Fatal(err)
	}
	ch, err := accuracyBoxPlot(e.expConfigs(st), e.NamedSeed, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder.Canvas{}
	ch.draw(draw.NewCanvas(rec, ch.w, ch.h))
	var texts []string
	for _, a := range rec.Actions {
		if fs, ok := a.(*recorder.FillString); ok {
			texts = append(texts, fs.String)
		}
	}
	for _, want := range []string{"1 diverged run left out", "3 diverged", "1 not finished"} {
		if !slices.Contains(texts, want) {
			t.Errorf("the box plot does not say %q (its texts: %q)", want, texts)
		}
	}
	if slices.ContainsFunc(texts, func(s string) bool { return strings.Contains(s, "0 diverged") }) {
		t.Errorf("the box plot counts no diverged run: %q", texts)
	}
}
