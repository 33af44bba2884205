package train

import (
	"strings"
	"testing"
	"time"
)

func TestBarAndStepTime(t *testing.T) {
	for _, tt := range []struct {
		done, total int
		want        string
	}{{0, 32, "╺" + strings.Repeat("━", 19)}, {16, 32, strings.Repeat("━", 10) + "╺" + strings.Repeat("━", 9)}, {32, 32, strings.Repeat("━", 20)}} {
		if got := Bar(tt.done, tt.total); got != tt.want {
			t.Errorf("Bar(%d, %d) = %q, want %q", tt.done, tt.total, got, tt.want)
		}
	}
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{{8 * time.Millisecond, "8ms/step"}, {926 * time.Microsecond, "926us/step"}, {2 * time.Second, "2s/step"}} {
		if got := FormatStepTime(tt.d); got != tt.want {
			t.Errorf("FormatStepTime(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

// progressRun drives a Progress through one epoch of 3 steps.
func progressRun(terminal bool) string {
	var b strings.Builder
	p := &Progress{W: &b, Terminal: terminal}
	r := &FitState{Epochs: 50, Steps: 3}
	p.OnEpochBegin(r, 0)
	for step := range 3 {
		p.OnBatchEnd(r, step, Logs{Loss: 2, Accuracy: 0.25})
	}
	p.OnEpochEnd(r, 0, Logs{Loss: 2.5, Accuracy: 0.2, ValLoss: 2.1185, ValAccuracy: 0.22, HasVal: true})
	eval := p.EvalProgress()
	eval(1, 2, Logs{Loss: 1, Accuracy: 0.5})
	eval(2, 2, Logs{Loss: 1.7446, Accuracy: 0.385})
	return b.String()
}

func TestProgressPlainOutput(t *testing.T) {
	out := progressRun(false)
	if strings.ContainsAny(out, "\r\x1b") {
		t.Fatalf("control characters in non-terminal output: %q", out)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 3 || lines[0] != "Epoch 1/50" {
		t.Fatalf("lines %q", lines)
	}
	if !strings.HasPrefix(lines[1], "3/3 "+Bar(3, 3)+" ") || !strings.HasSuffix(lines[1], "- accuracy: 0.2000 - loss: 2.5000 - val_accuracy: 0.2200 - val_loss: 2.1185") {
		t.Errorf("epoch line %q", lines[1])
	}
	if !strings.HasPrefix(lines[2], "2/2 ") || !strings.HasSuffix(lines[2], "- accuracy: 0.3850 - loss: 1.7446") {
		t.Errorf("evaluate line %q", lines[2])
	}
}

func TestProgressTerminalOutput(t *testing.T) {
	out := progressRun(true)
	// The bar is drawn within the epoch (step 1 at least), then replaced.
	// Keras's terminal colours: bold counter, green done part, grey rest.
	if !strings.Contains(out, "\r\x1b[1m1/3\x1b[0m \x1b[32m"+strings.Repeat("━", 6)+"\x1b[0m\x1b[37m"+strings.Repeat("━", 14)+"\x1b[0m") {
		t.Fatalf("no live bar in %q", out)
	}
	if !strings.Contains(out, "\r\x1b[K\x1b[1m3/3\x1b[0m \x1b[32m"+strings.Repeat("━", 20)) || !strings.HasSuffix(out, "- accuracy: 0.3850 - loss: 1.7446\n") {
		t.Fatalf("final lines not redrawn over the bar: %q", out)
	}
}
