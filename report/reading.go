package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/cifarnet/cifarnet/internal/atomicfile"
	"github.com/cifarnet/cifarnet/internal/regular"
	"github.com/cifarnet/cifarnet/train"
)

// ReadingInput is everything a run's reading rests on.
type ReadingInput struct {
	History   *train.History
	Metrics   *train.Metrics
	Confusion train.Confusion // of the test set, rows true, columns predicted
	Classes   []string
	// Experiment places the run among the other runs of its experiment;
	// nil when the run is not part of one.
	Experiment *ExperimentPlace
}

// ExperimentPlace is what the reading needs to place a run among the
// others of its experiment: the runs' values of one metric (this run's
// included, at index Self).
type ExperimentPlace struct {
	Name   string    `json:"experiment"` // the experiment, as its report names it
	Metric string    `json:"metric"`     // e.g. "test accuracy"
	Values []float64 `json:"values"`     // one per run
	Self   int       `json:"self"`       // this run's index in Values
	// LowerIsBetter is set for losses.
	LowerIsBetter bool `json:"lower_is_better,omitempty"`
}

// PlaceFile is the file in a run directory that holds the run's place in
// its experiment (written by PlaceRuns, read by Load, so that "cifarnet
// report RUN_DIR" redraws the same reading).
const PlaceFile = "experiment_place.json"

// PlaceRuns writes, once an experiment's runs have finished, each finished
// run's place among the others (PlaceFile) and redraws its report, whose
// reading then says where the run falls. Runs without a finite test
// accuracy are left as they are.
//
// A run whose own files cannot be read back for its report (damaged since
// it finished) is left as it is and named in the returned *UnplacedError,
// after every other run is placed: one damaged run must not keep the
// others from theirs.
func PlaceRuns(e Experiment) error {
	var bad []string
	for i := range e.Runs {
		p, err := e.Place(i)
		if err != nil {
			return err
		}
		if p == nil {
			continue
		}
		dir := e.Runs[i].Dir
		r, _, err := Load(dir, "")
		if err == nil {
			err = r.check()
		}
		if err != nil {
			bad = append(bad, err.Error()) // its files left as they are
			continue
		}
		if err := atomicfile.WriteJSON(filepath.Join(dir, PlaceFile), p); err != nil {
			return err
		}
		r.Experiment = p
		if _, err := Write(r); err != nil {
			return err
		}
	}
	if len(bad) > 0 {
		return &UnplacedError{Problems: bad}
	}
	return nil
}

// UnplacedError names the runs PlaceRuns left as they were, each with why.
type UnplacedError struct{ Problems []string }

func (e *UnplacedError) Error() string {
	what := fmt.Sprintf("%d runs' reports", len(e.Problems))
	if len(e.Problems) == 1 {
		what = "1 run's report"
	}
	return fmt.Sprintf("%s not redrawn (%s)", what, strings.Join(e.Problems, "; "))
}

// readPlace reads a run directory's PlaceFile; nil if there is none.
func readPlace(dir string) (*ExperimentPlace, error) {
	name := filepath.Join(dir, PlaceFile)
	b, err := regular.ReadFile(name, 16<<20)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("run %s: %v", dir, err)
	}
	var p ExperimentPlace
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("run %s: %s: %v", dir, PlaceFile, err)
	}
	if p.Self < 0 || p.Self >= len(p.Values) {
		return nil, fmt.Errorf("run %s: %s: self %d outside its %d values", dir, PlaceFile, p.Self, len(p.Values))
	}
	return &p, nil
}

// Sentence is one statement of a reading.
type Sentence struct {
	// Topic says what the sentence is about: "nonfinite", "lowest",
	// "validation", "diverging", "overfitting", "improving", "trend",
	// "underfitting", "gap", "stopping", "test", "confused" or
	// "experiment".
	Topic string
	Text  string
}

// Reading is a short account of what a run's curves and scores show, each
// sentence with the numbers it rests on.
type Reading []Sentence

// Rules of the reading, stated in its sentences.
const (
	// overfitRise: validation loss after its lowest epoch must average at
	// least this much above the lowest (relative) to call it a rise.
	overfitRise = 0.02
	// divergeFactor: a final training loss this many times its lowest is
	// a diverging run.
	divergeFactor = 1.5
	// smallValidation: below this many validation images the reading says
	// its statements about validation are rough.
	smallValidation = 100
	// underfitChance: a training accuracy under this many times chance,
	// with validation accuracy within underfitGap of it, is underfitting.
	underfitChance = 3.0
	underfitGap    = 0.03
	// confusedPairs is how many class pairs the reading names.
	confusedPairs = 3
)

// Text is the reading as one paragraph.
func (r Reading) Text() string {
	var parts []string
	for _, s := range r {
		parts = append(parts, s.Text)
	}
	return strings.Join(parts, " ")
}

// Wrap is the reading as one paragraph, broken into lines of at most
// width characters (a longer word keeps its own line), for a terminal.
func (r Reading) Wrap(width int) string {
	var b strings.Builder
	line := 0
	for _, w := range strings.Fields(r.Text()) {
		n := len([]rune(w))
		if line > 0 && line+1+n > width {
			b.WriteByte('\n')
			line = 0
		} else if line > 0 {
			b.WriteByte(' ')
			line++
		}
		b.WriteString(w)
		line += n
	}
	return b.String()
}

// Find returns the sentence on a topic ("" if there is none).
func (r Reading) Find(topic string) string {
	for _, s := range r {
		if s.Topic == topic {
			return s.Text
		}
	}
	return ""
}

// Read computes the reading of a run from its history, metrics and test
// confusion matrix.
func Read(in ReadingInput) Reading {
	var r Reading
	say := func(topic, format string, args ...any) {
		r = append(r, Sentence{topic, fmt.Sprintf(format, args...)})
	}
	h, m := in.History, in.Metrics
	n := len(h.Epochs)
	loss, vloss := h.Series("loss"), h.Series("val_loss")
	acc, vacc := h.Series("accuracy"), h.Series("val_accuracy")
	hasVal := n > 0 && h.Epochs[0].HasVal

	if m.Terminated != "" || !allFinite(loss) {
		what := m.Terminated
		if what == "" {
			what = "the training loss was not a finite number"
		}
		kept := fmt.Sprintf("the model keeps epoch %d's weights, the last good ones", m.BestEpoch)
		if m.BestEpoch == 0 {
			kept = "no epoch finished, so nothing in this run is worth keeping"
		}
		say("nonfinite", "Training broke down: %s. The weights grew until the arithmetic overflowed, which usually means the learning rate (%s) is too high for this network; %s.", what, rateWords(h, m), kept)
	}
	if n == 0 {
		return r
	}
	finiteLoss, _ := finitePrefix(loss)
	nVal := m.Config.TrainSamples - train.SplitAt(m.Config.TrainSamples, m.Config.ValidationSplit)
	if hasVal && nVal < smallValidation {
		say("validation", "The validation set holds only %s: its loss and accuracy move a lot from one epoch to the next by chance alone, so what follows about them (the lowest epoch, overfitting, the test against validation) is rough; a --validation-split that holds out a few hundred images or more says more.",
			Count(nVal, "image"))
	}

	best := -1 // the epoch (0-based) of the lowest validation loss
	if hasVal {
		for i, v := range vloss {
			if !math.IsNaN(v) && !math.IsInf(v, 0) && (best < 0 || v < vloss[best]) {
				best = i
			}
		}
	}
	switch {
	case best >= 0 && n == 1:
		say("lowest", "Validation loss was %.4f after the only epoch run.", vloss[best])
	case best >= 0:
		say("lowest", "Validation loss was lowest at epoch %d (%.4f), of %s run.", best+1, vloss[best], Count(n, "epoch"))
	}

	// Diverging: training loss ends far above its lowest.
	diverging := false
	if len(finiteLoss) >= 2 {
		lo := argmin(finiteLoss)
		last := len(finiteLoss) - 1
		if finiteLoss[last] > divergeFactor*finiteLoss[lo] {
			diverging = true
			say("diverging", "The run diverged: training loss fell to %.4f at epoch %d and then rose to %.4f by epoch %d (over %.1f times its lowest), so training made the model worse even on its own training images; a smaller learning rate than %g should help.",
				finiteLoss[lo], lo+1, finiteLoss[last], last+1, divergeFactor, m.Config.LearningRate)
		}
	}

	if best >= 0 && !diverging && m.Terminated == "" {
		after := vloss[best+1:]
		switch {
		case len(after) >= 2 && mean(after) >= (1+overfitRise)*vloss[best] && loss[n-1] < loss[best]:
			say("overfitting", "From epoch %d on, validation loss rose (ending at %.4f at epoch %d; %.0f%% above its lowest on average over those %d epochs) while training loss kept falling (from %.4f at epoch %d to %.4f): the model began to overfit, learning details of its training images that do not carry over to new ones. (Rule: at least 2 epochs after the lowest validation loss, averaging %.0f%% or more above it, with training loss lower at the end.)",
				best+2, vloss[n-1], n, 100*(mean(after)/vloss[best]-1), len(after), loss[best], best+1, loss[n-1], 100*overfitRise)
		case m.StoppedEarly:
		case n == 1:
			say("trend", "One epoch tells nothing about the trend: whether validation loss would have kept falling with more epochs, or begun to rise, cannot be read from this run.")
		case best == n-1:
			say("improving", "Validation loss was still falling near the end (lowest at epoch %d of %d), so training ended at its epoch limit, not because it had passed its best: more epochs would probably help.", best+1, n)
		case best == n-2:
			say("trend", "Validation loss was lowest at epoch %d (%.4f) and %s; one epoch after the lowest is too few to tell whether it would keep rising (the overfitting rule needs at least 2), so this run cannot say whether more epochs would help.",
				best+1, vloss[best], lastChange(vloss[best], vloss[n-1], n))
		}
	}

	// The epoch the model keeps.
	k := m.BestEpoch - 1
	if k >= 0 && k < n && hasVal && !math.IsNaN(vacc[k]) {
		gap := acc[k] - vacc[k]
		// The gap the sentence prints is that of the percentages it
		// prints, so that the page adds up (50.0% and 40.3% make 9.7
		// points, not the 9.6 of the unrounded values).
		shown := pct1(acc[k]) - pct1(vacc[k])
		chance := 1 / float64(max(1, len(in.Classes)))
		if !diverging && acc[k] < underfitChance*chance && math.Abs(gap) < underfitGap {
			say("underfitting", "The model underfits: at epoch %d it was right on only %.1f%% of its training images, under %.0f times chance (%.1f%% for %d classes), and about as often on validation (%.1f%%): it has not learned enough to overfit. More epochs, a larger learning rate or a larger network may help. (Rule: training accuracy under %.0f times chance with validation within %.0f points of it.)",
				k+1, 100*acc[k], underfitChance, 100*chance, len(in.Classes), 100*vacc[k], underfitChance, 100*underfitGap)
		}
		if shown >= 0 {
			say("gap", "At epoch %d, the one kept, training accuracy was %.1f%% and validation accuracy %.1f%%: a gap of %.1f points between images the model learned from and images it never saw.",
				k+1, 100*acc[k], 100*vacc[k], shown)
		} else {
			why := "training accuracy is averaged while the model still changes during the epoch"
			if mc := m.Config.Model; mc != nil && mc.HasNoiseLayers() {
				// Keras's FAQ gives this first: the noise hurts training.
				why = "the dropout and noise layers are active in training and off at evaluation, and training accuracy is averaged while the model still changes during the epoch"
			}
			say("gap", "At epoch %d, the one kept, training accuracy was %.1f%% and validation accuracy %.1f%%: no gap, validation is %.1f points higher (%s).",
				k+1, 100*acc[k], 100*vacc[k], -shown, why)
		}
	}

	patience := m.Config.Patience
	switch {
	case m.StoppedEarly && m.Config.RestoreBest:
		say("stopping", "Early stopping ended training after epoch %d, when validation loss had not improved for %s (its patience), and restored the weights of epoch %d: the epochs after it were worse on validation, so the model keeps the best epoch, not the last.",
			m.EpochsRun, Count(patience, "epoch"), m.BestEpoch)
	case m.StoppedEarly:
		say("stopping", "Early stopping ended training after epoch %d, when validation loss had not improved for %s, but best weights were not restored (--restore-best=false), so the model keeps the last epoch's weights.",
			m.EpochsRun, Count(patience, "epoch"))
	case m.Terminated != "":
	case patience < 0 && n == 1:
		say("stopping", "Early stopping was off, so training ran its only epoch and the model keeps that epoch's weights.")
	case patience < 0:
		say("stopping", "Early stopping was off, so training ran all %d epochs and the model keeps the last one's weights.", n)
	case n == 1:
		say("stopping", "Training ran its only epoch: validation loss never went %s without improving, so early stopping did not stop it.", Count(patience, "epoch"))
	default:
		say("stopping", "Training ran all %d epochs: validation loss never went %s without improving, so early stopping did not stop it.", n, Count(patience, "epoch"))
	}

	if k >= 0 && k < n && hasVal && !math.IsNaN(vacc[k]) && len(m.TestLabels) > 0 {
		nTest := float64(len(m.TestLabels))
		nVal := float64(nVal)
		t, v := m.TestAccuracy, vacc[k]
		d := t - v
		noise := 2 * math.Sqrt(t*(1-t)/nTest+v*(1-v)/math.Max(nVal, 1))
		verdict := "within what chance alone gives"
		switch {
		case nVal < smallValidation:
			// The normal approximation does not hold, and the epoch was
			// chosen on these few images, which flatters them.
			verdict = "too few validation images to tell a difference from chance"
		case math.Abs(d) > noise:
			verdict = "more than chance alone gives, so the test images are harder for this model than the validation ones"
			if d > 0 {
				verdict = "more than chance alone gives, so the test images are easier for this model than the validation ones"
			}
		}
		dir := "above"
		if d < 0 {
			dir = "below"
		}
		band := fmt.Sprintf(" (two standard errors: ±%.1f points)", 100*noise)
		if nVal < smallValidation {
			band = ""
		}
		say("test", "Test accuracy, %.1f%% on %s, is %.1f points %s epoch %d's validation accuracy (%.1f%% on %s), %s%s.",
			100*t, Count(len(m.TestLabels), "image"), 100*math.Abs(d), dir, k+1, 100*v, Count(int(nVal), "image"), verdict, band)
	}

	if pairs := topConfused(in.Confusion, confusedPairs); len(pairs) > 0 {
		var parts []string
		for _, p := range pairs {
			a, b := in.Classes[p.a], in.Classes[p.b]
			parts = append(parts, fmt.Sprintf("%s and %s, %s (%s predicted as %s, %s as %s)",
				a, b, Count(p.ab+p.ba, "test image"), imagesOf(p.ab, a), b, imagesOf(p.ba, b), a))
		}
		say("confused", "The classes most often confused with each other: %s.", strings.Join(parts, "; "))
	}

	if e := in.Experiment; e != nil && e.Self >= 0 && e.Self < len(e.Values) && len(e.Values) > 1 {
		self := e.Values[e.Self]
		rank := 1
		for i, v := range e.Values {
			if i != e.Self && ((!e.LowerIsBetter && v > self) || (e.LowerIsBetter && v < self)) {
				rank++
			}
		}
		sorted := append([]float64(nil), e.Values...)
		sort.Float64s(sorted)
		say("experiment", "Among the %d runs of experiment %s, this run's %s (%.4f) ranks %s of %d, best first (median %.4f, range %.4f to %.4f).",
			len(e.Values), e.Name, e.Metric, self, ordinal(rank), len(e.Values), median(sorted), sorted[0], sorted[len(sorted)-1])
	}
	return r
}

// ReadingOf is the reading of a report's run.
func ReadingOf(r Input) Reading {
	return Read(ReadingInput{History: r.History, Metrics: r.Metrics, Classes: r.Classes,
		Confusion: train.NewConfusion(r.Metrics.TestLabels, r.Metrics.TestPredictions, len(r.Classes)), Experiment: r.Experiment})
}

type pair struct{ a, b, ab, ba int }

// topConfused returns up to k class pairs with the most test images
// mistaken one for the other (both directions), most first; ties keep the
// classes' order.
func topConfused(c train.Confusion, k int) []pair {
	var ps []pair
	for a := range c.Counts {
		for b := a + 1; b < len(c.Counts); b++ {
			p := pair{a, b, c.Counts[a][b], c.Counts[b][a]}
			if p.ab+p.ba > 0 {
				ps = append(ps, p)
			}
		}
	}
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].ab+ps[i].ba > ps[j].ab+ps[j].ba })
	return ps[:min(k, len(ps))]
}

func allFinite(v []float64) bool {
	_, ok := finitePrefix(v)
	return ok
}

// rateWords names the learning rate of a run that broke down: the
// constant one (ReduceLROnPlateau's starting one), or a schedule's, the
// highest logged at an epoch's end.
func rateWords(h *train.History, m *train.Metrics) string {
	highest := math.NaN()
	for _, e := range h.Epochs {
		if e.HasLearningRate && !(e.LearningRate <= highest) {
			highest = e.LearningRate
		}
	}
	switch {
	case m.Config.LRSchedule != nil && m.Config.LRSchedule.ClassName != "" && !math.IsNaN(highest):
		return fmt.Sprintf("set by its schedule, up to %.3g at an epoch's end", highest)
	case m.Config.LRSchedule != nil && m.Config.LRSchedule.ClassName != "":
		return "set by its schedule"
	}
	return fmt.Sprintf("%g", m.Config.LearningRate)
}

// finitePrefix returns v up to its first NaN or infinity, and whether v
// is finite throughout.
func finitePrefix(v []float64) ([]float64, bool) {
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return v[:i], false
		}
	}
	return v, true
}

func argmin(v []float64) int {
	k := 0
	for i, x := range v {
		if x < v[k] {
			k = i
		}
	}
	return k
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

func ordinal(n int) string {
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return fmt.Sprintf("%d%s", n, suffix)
}

// Place is where run i of e falls among the experiment's finished runs by
// test accuracy, for that run's reading (set it as Run.Experiment when the
// run's report is written after the others have finished); nil when run i
// has no finite test accuracy or is the only run that has one.
func (e *Experiment) Place(i int) (*ExperimentPlace, error) {
	if i < 0 || i >= len(e.Runs) {
		return nil, fmt.Errorf("experiment %s: no run %d of %d", e.Dir, i, len(e.Runs))
	}
	if err := e.load(); err != nil {
		return nil, err
	}
	p := &ExperimentPlace{Name: filepath.Base(e.Dir), Metric: "test accuracy", Self: -1}
	for k := range e.Runs {
		r := &e.Runs[k]
		if !r.finished() || !finite(r.testAccuracy()) {
			continue
		}
		if k == i {
			p.Self = len(p.Values)
		}
		p.Values = append(p.Values, r.testAccuracy())
	}
	if p.Self < 0 || len(p.Values) < 2 {
		return nil, nil
	}
	return p, nil
}

// imagesOf counts a class's images: "43 airplane images", "1 ship image",
// and for a class named by a digit (MNIST) "23 images of 2", not "23 2
// images".
func imagesOf(n int, class string) string {
	noun := "images"
	if n == 1 {
		noun = "image"
	}
	if class != "" && class[0] >= '0' && class[0] <= '9' {
		return fmt.Sprintf("%d %s of %s", n, noun, class)
	}
	return fmt.Sprintf("%d %s %s", n, class, noun)
}

// Count says n things, in the singular for one: "1 epoch", "3 epochs",
// "0 test images".
func Count(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

// lastChange says how validation loss moved from its lowest, lo, to
// last, its value at the last of n epochs: "rose after it, to 0.3217 at
// epoch 4 (10.4% above its lowest)".
func lastChange(lo, last float64, n int) string {
	switch {
	case math.IsNaN(last) || math.IsInf(last, 0):
		return fmt.Sprintf("was not a finite number at epoch %d", n)
	case last == lo:
		return fmt.Sprintf("was no lower at epoch %d (%.4f)", n, last)
	case lo <= 0:
		return fmt.Sprintf("rose after it, to %.4f at epoch %d", last, n)
	}
	return fmt.Sprintf("rose after it, to %.4f at epoch %d (%.1f%% above its lowest)", last, n, 100*(last/lo-1))
}

// pct1 is a fraction as the percentage a sentence prints with one
// decimal.
func pct1(v float64) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(100*v, 'f', 1, 64), 64)
	return r
}
