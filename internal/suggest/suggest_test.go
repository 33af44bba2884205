package suggest

import (
	"strings"
	"testing"
)

func TestClosest(t *testing.T) {
	known := []string{"activation", "beta-1", "beta-2", "epochs", "lr", "lr-schedule", "train-samples", "test-samples", "seeds", "grid", "config", "named_seed"}
	for name, want := range map[string]string{
		"train_samples":         "train-samples", // '_' for '-'
		"TRAIN-SAMPLES":         "train-samples",
		"activaton":             "activation",  // a letter missing
		"lr-shcedule":           "lr-schedule", // two swapped
		"epoch":                 "epochs",
		"grd":                   "grid",
		"configs":               "config",
		"named-seed":            "named_seed",
		"beta":                  "", // beta-1 or beta-2: not obvious
		"lt":                    "", // lr? one edit of two letters
		"momentum":              "",
		"epochs":                "", // known: nothing to suggest
		"x":                     "",
		strings.Repeat("a", 65): "",
	} {
		if got := Closest(name, known); got != want {
			t.Errorf("Closest(%q) = %q, want %q", name, got, want)
		}
	}
}
