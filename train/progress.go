package train

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// Progress prints Keras's verbose=1 output: "Epoch i/N", then one line per
// epoch with steps, time, time per step and the metrics. On a terminal the
// line is a live bar redrawn within the epoch; elsewhere (a pipe, a file, CI)
// only the finished lines are written, with no control characters.
type Progress struct {
	NopCallback
	W        io.Writer
	Terminal bool

	epochStart time.Time
	lastDraw   time.Time
}

// barWidth is the width of Keras 3's progress bar.
const barWidth = 20

// Bar renders Keras 3's bar for done of total steps.
func Bar(done, total int) string {
	if total <= 0 {
		return strings.Repeat("━", barWidth)
	}
	full := barWidth * done / total
	if full >= barWidth {
		return strings.Repeat("━", barWidth)
	}
	// Keras draws the remainder dim; a half-cap marks the head.
	return strings.Repeat("━", full) + "╺" + strings.Repeat("━", barWidth-full-1)
}

// colorBar renders the bar for a terminal as Keras does there: the done
// part green, the rest grey, the step counter bold.
func colorBar(done, total int) string {
	full := barWidth
	if total > 0 {
		full = min(barWidth, barWidth*done/total)
	}
	bar := ""
	if full > 0 {
		bar = "\x1b[32m" + strings.Repeat("━", full) + "\x1b[0m"
	}
	return bar + "\x1b[37m" + strings.Repeat("━", barWidth-full) + "\x1b[0m"
}

// FormatStepTime formats the time per step as Keras does: s, ms or us.
func FormatStepTime(perStep time.Duration) string {
	s := perStep.Seconds()
	switch {
	case s >= 1 || s == 0:
		return fmt.Sprintf("%.0fs/step", s)
	case s >= 1e-3:
		return fmt.Sprintf("%.0fms/step", s*1e3)
	default:
		return fmt.Sprintf("%.0fus/step", s*1e6)
	}
}

// stepLine is one progress line, "17/32 ━━━━╺━━━ 0s 5ms/step - accuracy:
// ... - loss: ...", with Keras's terminal colours when color.
func stepLine(step, steps int, elapsed time.Duration, logs Logs, withVal, color bool) string {
	var b strings.Builder
	counter, bar := fmt.Sprintf("%d/%d", step, steps), Bar(step, steps)
	if color {
		counter, bar = "\x1b[1m"+counter+"\x1b[0m", colorBar(step, steps)
	}
	fmt.Fprintf(&b, "%s %s %.0fs %s - accuracy: %.4f - loss: %.4f",
		counter, bar, elapsed.Seconds(), FormatStepTime(elapsed/time.Duration(max(step, 1))), logs.Accuracy, logs.Loss)
	if withVal && logs.HasVal {
		fmt.Fprintf(&b, " - val_accuracy: %.4f - val_loss: %.4f", logs.ValAccuracy, logs.ValLoss)
	}
	if withVal && logs.HasLearningRate {
		// Keras's progress bar: %.4f above 1e-3, else %.4e.
		if math.Abs(logs.LearningRate) > 1e-3 {
			fmt.Fprintf(&b, " - learning_rate: %.4f", logs.LearningRate)
		} else {
			fmt.Fprintf(&b, " - learning_rate: %.4e", logs.LearningRate)
		}
	}
	return b.String()
}

// OnEpochBegin implements Callback.
func (p *Progress) OnEpochBegin(r *FitState, epoch int) {
	fmt.Fprintf(p.W, "Epoch %d/%d\n", epoch+1, r.Epochs)
	p.epochStart = time.Now()
	p.lastDraw = time.Time{}
}

// OnBatchEnd implements Callback.
func (p *Progress) OnBatchEnd(r *FitState, step int, logs Logs) {
	if !p.Terminal || step+1 == r.Steps {
		return
	}
	// Redraw at most 20 times a second, as Keras does.
	if now := time.Now(); now.Sub(p.lastDraw) >= 50*time.Millisecond {
		p.lastDraw = now
		fmt.Fprintf(p.W, "\r%s\x1b[K", stepLine(step+1, r.Steps, now.Sub(p.epochStart), logs, false, true))
	}
}

// OnEpochEnd implements Callback.
func (p *Progress) OnEpochEnd(r *FitState, epoch int, logs Logs) {
	if p.Terminal {
		fmt.Fprint(p.W, "\r\x1b[K")
	}
	fmt.Fprintln(p.W, stepLine(r.Steps, r.Steps, time.Since(p.epochStart), logs, true, p.Terminal))
}

// EvalProgress returns a StepFunc printing Keras's evaluate output to the
// same writer: a live bar on a terminal, the final line always.
func (p *Progress) EvalProgress() StepFunc {
	start := time.Now()
	var last time.Time
	return func(step, steps int, running Logs) {
		now := time.Now()
		if step == steps {
			if p.Terminal {
				fmt.Fprint(p.W, "\r\x1b[K")
			}
			fmt.Fprintln(p.W, stepLine(step, steps, now.Sub(start), running, false, p.Terminal))
			return
		}
		if p.Terminal && now.Sub(last) >= 50*time.Millisecond {
			last = now
			fmt.Fprintf(p.W, "\r%s\x1b[K", stepLine(step, steps, now.Sub(start), running, false, true))
		}
	}
}
