package report

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cifarnet/cifarnet/nn"
	"github.com/cifarnet/cifarnet/optim"
	"github.com/cifarnet/cifarnet/train"
)

// scripted is a made-up run: per-epoch training and validation loss and
// accuracy, the epoch kept, whether early stopping stopped it.
type scripted struct {
	loss, acc, vloss, vacc []float64
	kept                   int // 1-based
	stopped                bool
	patience               int
	testAcc                float64
	terminated             string
}

func (s scripted) input() ReadingInput {
	h := &train.History{}
	for i := range s.loss {
		h.Epochs = append(h.Epochs, train.Epoch{Epoch: i + 1, Logs: train.Logs{Loss: s.loss[i], Accuracy: s.acc[i], ValLoss: s.vloss[i], ValAccuracy: s.vacc[i], HasVal: true}})
	}
	cfg := train.Exercise() // 5000 training samples, split 0.2: 1000 validation images
	cfg.Patience = s.patience
	labels := make([]int32, 1000)
	m := &train.Metrics{TestAccuracy: s.testAcc, EpochsRun: len(s.loss), BestEpoch: s.kept, StoppedEarly: s.stopped,
		Terminated: s.terminated, Config: cfg, TestLabels: labels, TestPredictions: labels}
	classes := []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}
	conf := train.Confusion{Counts: make([][]int, 10)}
	for i := range conf.Counts {
		conf.Counts[i] = make([]int, 10)
		conf.Counts[i][i] = 50
	}
	conf.Counts[3][5], conf.Counts[5][3] = 12, 9 // cat and dog: 21
	conf.Counts[1][9], conf.Counts[9][1] = 4, 11 // automobile and truck: 15
	conf.Counts[0][8], conf.Counts[8][0] = 7, 2  // airplane and ship: 9
	conf.Counts[2][4] = 3                        // bird and deer: 3
	return ReadingInput{History: h, Metrics: m, Confusion: conf, Classes: classes}
}

// wants checks that the sentence on a topic holds every fragment.
func wants(t *testing.T, r Reading, topic string, fragments ...string) {
	t.Helper()
	s := r.Find(topic)
	if s == "" {
		t.Errorf("no %q sentence in: %s", topic, r.Text())
		return
	}
	for _, f := range fragments {
		if !strings.Contains(s, f) {
			t.Errorf("%s sentence lacks %q: %s", topic, f, s)
		}
	}
}

func absent(t *testing.T, r Reading, topics ...string) {
	t.Helper()
	for _, topic := range topics {
		if s := r.Find(topic); s != "" {
			t.Errorf("unexpected %s sentence: %s", topic, s)
		}
	}
}

func TestReadingOverfitsFromKnownEpoch(t *testing.T) {
	// Validation loss falls to its lowest at epoch 6 and rises from epoch 7
	// while training loss keeps falling; patience 5 stops it after epoch 11.
	s := scripted{
		loss:  []float64{2.0, 1.8, 1.6, 1.4, 1.3, 1.2, 1.1, 1.0, 0.9, 0.8, 0.7},
		acc:   []float64{.2, .3, .35, .4, .5, .6, .65, .7, .75, .8, .85},
		vloss: []float64{1.9, 1.7, 1.5, 1.3, 1.1, 1.0, 1.05, 1.1, 1.15, 1.2, 1.25},
		vacc:  []float64{.2, .25, .3, .35, .4, .45, .44, .43, .43, .42, .41},
		kept:  6, stopped: true, patience: 5, testAcc: .43,
	}
	r := Read(s.input())
	wants(t, r, "lowest", "lowest at epoch 6 (1.0000), of 11 epochs")
	// Mean of the 5 epochs after the lowest: 1.15, 15% above 1.0.
	wants(t, r, "overfitting", "From epoch 7 on", "ending at 1.2500 at epoch 11", "15% above its lowest", "those 5 epochs",
		"from 1.2000 at epoch 6 to 0.7000", "Rule:")
	wants(t, r, "gap", "At epoch 6", "training accuracy was 60.0%", "validation accuracy 45.0%", "gap of 15.0 points")
	wants(t, r, "stopping", "after epoch 11", "for 5 epochs", "weights of epoch 6", "not the last")
	noise := 2 * math.Sqrt(.43*.57/1000+.45*.55/1000)
	wants(t, r, "test", "43.0% on 1000 images", "2.0 points below epoch 6's validation accuracy (45.0% on 1000 images)",
		"within what chance alone gives", fmt.Sprintf("±%.1f points", 100*noise))
	wants(t, r, "confused", "cat and dog, 21 test images (12 cat images predicted as dog, 9 dog images as cat)",
		"automobile and truck, 15 test images (4 automobile images predicted as truck, 11 truck images as automobile)",
		"airplane and ship, 9 test images")
	if strings.Contains(r.Find("confused"), "bird") {
		t.Error("the fourth pair is named; want the top three")
	}
	if i, j := strings.Index(r.Find("confused"), "cat and dog"), strings.Index(r.Find("confused"), "automobile"); i > j {
		t.Error("pairs not ordered by count")
	}
	absent(t, r, "underfitting", "diverging", "nonfinite", "improving", "experiment")
}

func TestReadingNeverStops(t *testing.T) {
	// Validation loss falls to the last of 10 epochs: no early stop.
	s := scripted{
		loss:  []float64{2.2, 2.0, 1.9, 1.8, 1.7, 1.6, 1.55, 1.5, 1.45, 1.4},
		acc:   []float64{.2, .25, .3, .33, .36, .4, .42, .44, .46, .48},
		vloss: []float64{2.1, 2.0, 1.95, 1.9, 1.85, 1.8, 1.78, 1.76, 1.74, 1.72},
		vacc:  []float64{.2, .24, .27, .3, .32, .34, .35, .36, .37, .38},
		kept:  10, patience: 5, testAcc: .30,
	}
	r := Read(s.input())
	wants(t, r, "lowest", "lowest at epoch 10 (1.7200), of 10 epochs")
	wants(t, r, "improving", "lowest at epoch 10 of 10", "more epochs would probably help")
	wants(t, r, "stopping", "ran all 10 epochs", "never went 5 epochs without improving")
	// 30% against 38%: 8 points, more than two standard errors (about 4.2).
	wants(t, r, "test", "8.0 points below epoch 10's validation accuracy (38.0%", "harder")
	absent(t, r, "overfitting", "underfitting", "diverging", "nonfinite")

	s.patience = -1
	wants(t, Read(s.input()), "stopping", "Early stopping was off", "all 10 epochs")
}

func TestReadingUnderfits(t *testing.T) {
	// A learning rate far too small: training and validation accuracy stay
	// near chance (10%) and close together.
	s := scripted{
		loss:  []float64{2.31, 2.30, 2.29, 2.28, 2.27},
		acc:   []float64{.11, .13, .15, .17, .19},
		vloss: []float64{2.30, 2.29, 2.28, 2.27, 2.26},
		vacc:  []float64{.11, .12, .15, .16, .18},
		kept:  5, patience: 5, testAcc: .18,
	}
	r := Read(s.input())
	wants(t, r, "underfitting", "at epoch 5", "only 19.0% of its training images", "under 3 times chance (10.0% for 10 classes)",
		"on validation (18.0%)", "Rule:")
	wants(t, r, "gap", "gap of 1.0 points")
	absent(t, r, "overfitting", "diverging")
	s.vacc[4] = .21
	wants(t, Read(s.input()), "gap", "no gap, validation is 2.0 points higher (training accuracy is averaged")
	// With dropout, its being off at evaluation comes first (Keras's FAQ).
	in := s.input()
	in.Metrics.Config.Model = &nn.ModelConfig{Layers: []nn.LayerConfig{{ClassName: "Dense"}, {ClassName: "Dropout", Config: map[string]any{"name": "dropout"}}}}
	wants(t, Read(in), "gap", "no gap, validation is 2.0 points higher (the dropout and noise layers are active in training and off at evaluation")

	// The same accuracies with a wide gap are not underfitting.
	s.acc[4], s.vacc[4] = .29, .18
	absent(t, Read(s.input()), "underfitting")
}

func TestReadingDiverges(t *testing.T) {
	s := scripted{
		loss:  []float64{2.0, 1.8, 1.9, 2.5, 3.2, 4.0},
		acc:   []float64{.2, .25, .22, .15, .11, .1},
		vloss: []float64{1.9, 1.85, 2.2, 2.9, 3.5, 4.4},
		vacc:  []float64{.22, .24, .2, .12, .1, .1},
		kept:  2, stopped: true, patience: 4, testAcc: .23,
	}
	in := s.input()
	in.Metrics.Config.LearningRate = 0.5
	r := Read(in)
	wants(t, r, "diverging", "fell to 1.8000 at epoch 2", "rose to 4.0000 by epoch 6", "over 1.5 times its lowest", "smaller learning rate than 0.5")
	wants(t, r, "stopping", "weights of epoch 2")
	absent(t, r, "overfitting", "underfitting", "improving")
}

func TestReadingNonFinite(t *testing.T) {
	s := scripted{
		loss:  []float64{2.0, 1.8, 1.7},
		acc:   []float64{.2, .25, .3},
		vloss: []float64{1.9, 1.8, 1.75},
		vacc:  []float64{.22, .26, .29},
		kept:  3, patience: 5, testAcc: .28, terminated: "loss is NaN at epoch 4, step 7",
	}
	r := Read(s.input())
	wants(t, r, "nonfinite", "loss is NaN at epoch 4, step 7", "learning rate (0.001)", "epoch 3's weights")
	absent(t, r, "overfitting", "improving", "stopping")

	// A schedule's rate is not the constant --lr (a 1cycle run's reading
	// named SGD's default 0.01 for a peak of 0.02).
	in := s.input()
	in.Metrics.Config.LRSchedule = &optim.ScheduleConfig{ClassName: "OneCycle", Config: optim.Args{"max_lr": 0.02}}
	for i, lr := range []float64{0.008, 0.0195, 0.012} {
		in.History.Epochs[i].LearningRate, in.History.Epochs[i].HasLearningRate = lr, true
	}
	r = Read(in)
	wants(t, r, "nonfinite", "learning rate (set by its schedule, up to 0.0195 at an epoch's end)")
	absent(t, r, "learning rate (0.001)")

	// A NaN in the history itself, without a recorded termination.
	s.terminated = ""
	s.loss[2] = math.NaN()
	wants(t, Read(s.input()), "nonfinite", "not a finite number")
}

func TestReadingExperimentPlace(t *testing.T) {
	s := scripted{
		loss: []float64{2, 1.5}, acc: []float64{.3, .4}, vloss: []float64{1.9, 1.8}, vacc: []float64{.3, .35},
		kept: 2, patience: 5, testAcc: .40,
	}
	in := s.input()
	if Read(in).Find("experiment") != "" {
		t.Error("a run outside an experiment is placed in one")
	}
	in.Experiment = &ExperimentPlace{Name: "lr-sweep", Metric: "test accuracy", Values: []float64{.40, .38, .42, .39}, Self: 0}
	wants(t, Read(in), "experiment", "4 runs of experiment lr-sweep", "test accuracy (0.4000) ranks 2nd of 4", "median 0.3950", "0.3800 to 0.4200")
	in.Experiment.LowerIsBetter = true
	wants(t, Read(in), "experiment", "ranks 3rd of 4")
}

func TestExperimentPlace(t *testing.T) {
	e := syntheticExperiment(t)
	// Run 6 is "lr=0.01 elu" seed 0: accuracy 0.40 + 0 - 0.02 = 0.38.
	i := 6
	if e.Runs[i].Config != "lr=0.01 elu" || e.Runs[i].Seed != 0 {
		t.Fatalf("run %d is %s seed %d", i, e.Runs[i].Config, e.Runs[i].Seed)
	}
	p, err := e.Place(i)
	if err != nil || p == nil {
		t.Fatalf("place: %v, %v", p, err)
	}
	// The finished finite runs, worked from the synthetic formula: 24 runs
	// less the unfinished one and the diverged one.
	better, n := 0, 0
	for _, base := range []float64{0.35, 0.40, 0.34, 0.39} {
		for seed := range 6 {
			if (base == 0.40 && seed == 5) || (base == 0.34 && seed == 4) {
				continue
			}
			n++
			if base+0.01*float64((seed*7)%5)-0.02 > 0.38+1e-9 {
				better++
			}
		}
	}
	if len(p.Values) != n || n != 22 || p.Values[p.Self] != 0.38 {
		t.Fatalf("%d values, self %v; want %d and 0.38", len(p.Values), p.Values[p.Self], n)
	}
	in := scripted{loss: []float64{2, 1.5}, acc: []float64{.3, .4}, vloss: []float64{1.9, 1.8}, vacc: []float64{.3, .35}, kept: 2, patience: 5, testAcc: .38}.input()
	in.Experiment = p
	wants(t, Read(in), "experiment", fmt.Sprintf("22 runs of experiment %s", filepath.Base(e.Dir)), fmt.Sprintf("ranks %s of 22", ordinal(better+1)))
	// The diverged run has no place.
	for k, r := range e.Runs {
		if r.Config == "lr=0.001 relu" && r.Seed == 4 {
			if p, err := e.Place(k); p != nil || err != nil {
				t.Errorf("diverged run placed: %+v, %v", p, err)
			}
		}
	}
}

// TestPlaceRuns: after PlaceRuns a run's report says where it falls, and
// Load + Write (what "cifarnet report" does) redraws it byte for byte.
func TestPlaceRuns(t *testing.T) {
	e := syntheticExperiment(t)
	if err := PlaceRuns(e); err != nil {
		t.Fatal(err)
	}
	dir := e.Runs[6].Dir // "lr=0.01 elu" seed 0, test accuracy 0.38
	page, err := os.ReadFile(filepath.Join(dir, HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("Among the 22 runs of experiment %s, this run&#39;s test accuracy (0.3800)", filepath.Base(e.Dir)); !strings.Contains(string(page), want) {
		t.Errorf("report.html lacks %q", want)
	}
	r, _, err := Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Write(r); err != nil {
		t.Fatal(err)
	}
	again, _ := os.ReadFile(filepath.Join(dir, HTMLFile))
	if string(again) != string(page) {
		t.Error("report.html redrawn from the run directory differs")
	}
	// A damaged place file is an error naming it.
	os.WriteFile(filepath.Join(dir, PlaceFile), []byte(`{"values": [0.4], "self": 3}`), 0o644)
	if _, _, err := Load(dir, ""); err == nil || !strings.Contains(err.Error(), PlaceFile) {
		t.Errorf("damaged %s: %v", PlaceFile, err)
	}
}

// TestImagesOf: counts read as English for class names of words and of
// digits (MNIST's reading said "23 2 images predicted as 8, 1 8 images as 2").
func TestImagesOf(t *testing.T) {
	for _, c := range []struct {
		n     int
		class string
		want  string
	}{
		{43, "airplane", "43 airplane images"}, {1, "ship", "1 ship image"}, {23, "2", "23 images of 2"}, {1, "8", "1 image of 8"},
		{0, "T-shirt/top", "0 T-shirt/top images"},
	} {
		if got := imagesOf(c.n, c.class); got != c.want {
			t.Errorf("imagesOf(%d, %q) = %q, want %q", c.n, c.class, got, c.want)
		}
	}
}

// TestReadingRoseAfterLowest: validation loss lowest at the last epoch but
// one and higher at the last (the reviewer's run: 0.2913 at epoch 3, 0.3217
// at epoch 4) is not "still falling", and no more epochs are promised;
// lowest at the last epoch still is.
func TestReadingRoseAfterLowest(t *testing.T) {
	s := scripted{
		loss:  []float64{0.9, 0.5, 0.3, 0.2},
		acc:   []float64{.7, .8, .9, .93},
		vloss: []float64{0.6, 0.35, 0.2913, 0.3217},
		vacc:  []float64{.8, .88, .9, .9},
		kept:  4, patience: 5, testAcc: .9,
	}
	r := Read(s.input())
	wants(t, r, "trend", "lowest at epoch 3 (0.2913)", "rose after it, to 0.3217 at epoch 4 (10.4% above its lowest)",
		"too few to tell whether it would keep rising", "cannot say whether more epochs would help")
	absent(t, r, "improving", "overfitting")
	for _, bad := range []string{"still falling", "would probably help"} {
		if strings.Contains(r.Text(), bad) {
			t.Errorf("reading says %q: %s", bad, r.Text())
		}
	}

	// The same run with the last epoch lowest is still falling.
	s.vloss[3] = 0.28
	r = Read(s.input())
	wants(t, r, "improving", "still falling", "lowest at epoch 4 of 4", "more epochs would probably help")
	absent(t, r, "trend")

	// A tie at the last epoch is no rise.
	s.vloss[3] = 0.2913
	wants(t, Read(s.input()), "trend", "lowest at epoch 3 (0.2913) and was no lower at epoch 4 (0.2913)")
}

// TestReadingOneEpoch: a single epoch says nothing about the trend, and
// its counts are singular.
func TestReadingOneEpoch(t *testing.T) {
	s := scripted{
		loss: []float64{0.9}, acc: []float64{.7}, vloss: []float64{0.6}, vacc: []float64{.8},
		kept: 1, patience: 1, testAcc: .79,
	}
	in := s.input()
	in.Metrics.TestLabels, in.Metrics.TestPredictions = []int32{3}, []int32{3}
	r := Read(in)
	wants(t, r, "lowest", "Validation loss was 0.6000 after the only epoch run.")
	wants(t, r, "trend", "One epoch tells nothing about the trend")
	wants(t, r, "stopping", "Training ran its only epoch", "never went 1 epoch without improving")
	wants(t, r, "test", "on 1 image,")
	absent(t, r, "improving")
	for _, bad := range []string{"still falling", "would probably help", "1 epochs", "1 images"} {
		if strings.Contains(r.Text(), bad) {
			t.Errorf("reading says %q: %s", bad, r.Text())
		}
	}
	in.Metrics.Config.Patience = -1
	wants(t, Read(in), "stopping", "Early stopping was off, so training ran its only epoch")
}

// TestReadingSingularCounts: counts of one read in the singular (the
// reading said "1 test images" and "not improved for 1 epochs").
func TestReadingSingularCounts(t *testing.T) {
	s := scripted{
		loss:  []float64{2.0, 1.8, 1.6},
		acc:   []float64{.2, .3, .35},
		vloss: []float64{1.9, 1.7, 1.75},
		vacc:  []float64{.2, .25, .24},
		kept:  2, stopped: true, patience: 1, testAcc: .25,
	}
	in := s.input()
	in.Metrics.Config.RestoreBest = true
	for i := range in.Confusion.Counts {
		for j := range in.Confusion.Counts[i] {
			if i != j {
				in.Confusion.Counts[i][j] = 0
			}
		}
	}
	in.Confusion.Counts[3][5] = 1 // cat and dog: 1
	r := Read(in)
	wants(t, r, "stopping", "had not improved for 1 epoch (its patience)")
	wants(t, r, "confused", "cat and dog, 1 test image (1 cat image predicted as dog, 0 dog images as cat)")
	in.Metrics.Config.RestoreBest = false
	wants(t, Read(in), "stopping", "had not improved for 1 epoch, but")
	for _, c := range []struct {
		n    int
		want string
	}{{0, "0 epochs"}, {1, "1 epoch"}, {2, "2 epochs"}} {
		if got := Count(c.n, "epoch"); got != c.want {
			t.Errorf("Count(%d) = %q, want %q", c.n, got, c.want)
		}
	}
}

// TestReadingGapAddsUp: the gap printed is that of the two percentages
// printed (50.0% and 40.3%: 9.7 points; the unrounded 0.4995 - 0.403 gave
// 9.6).
func TestReadingGapAddsUp(t *testing.T) {
	r := Read(scripted{
		loss: []float64{2, 1.5}, acc: []float64{0.3, 0.4995}, vloss: []float64{2.1, 1.7}, vacc: []float64{0.3, 0.403},
		kept: 2, patience: 5, testAcc: 0.4,
	}.input())
	wants(t, r, "gap", "training accuracy was 50.0% and validation accuracy 40.3%: a gap of 9.7 points")
}

// TestReadingSmallValidation: with 10 validation images the reading says
// its validation statements are rough, and does not call a test-versus-
// validation difference more than chance (it did, from a ±29.7 band of a
// normal approximation that does not hold there).
func TestReadingSmallValidation(t *testing.T) {
	in := scripted{
		loss: []float64{2, 1.5, 1.2}, acc: []float64{0.3, 0.4, 0.5}, vloss: []float64{2.1, 1.2, 1.6}, vacc: []float64{0.3, 0.7, 0.4},
		kept: 2, patience: 5, testAcc: 0.3,
	}.input()
	in.Metrics.Config.TrainSamples, in.Metrics.Config.ValidationSplit = 2000, 0.005
	r := Read(in)
	wants(t, r, "validation", "only 10 images")
	wants(t, r, "test", "too few validation images to tell")
	if strings.Contains(r.Find("test"), "harder") || strings.Contains(r.Find("test"), "±") {
		t.Errorf("test sentence: %s", r.Find("test"))
	}
	// 1000 validation images: no caveat.
	if s := Read(scripted{loss: []float64{2, 1.5}, acc: []float64{0.3, 0.4}, vloss: []float64{2.1, 1.7}, vacc: []float64{0.3, 0.4}, kept: 2, patience: 5, testAcc: 0.4}.input()).Find("validation"); s != "" {
		t.Errorf("caveat with 1000 validation images: %s", s)
	}
}
