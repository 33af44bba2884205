// Command checkrun verifies a finished exercise run for CI: the test
// accuracy lies in a plausible band, and the number of epochs run and the
// restored epoch are what Keras's EarlyStopping rules give on the run's own
// recorded val_loss history (re-derived here independently of package train).
package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
)

func main() {
	if len(os.Args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: checkrun RUN_DIR MIN_ACC MAX_ACC PATIENCE")
		os.Exit(2)
	}
	dir := os.Args[1]
	lo, _ := strconv.ParseFloat(os.Args[2], 64)
	hi, _ := strconv.ParseFloat(os.Args[3], 64)
	patience, _ := strconv.Atoi(os.Args[4])
	var m struct {
		TestAccuracy float64 `json:"test_accuracy"`
		EpochsRun    int     `json:"epochs_run"`
		BestEpoch    int     `json:"best_epoch"`
		Config       struct {
			Epochs int `json:"epochs"`
		} `json:"config"`
	}
	var h struct {
		Epochs []struct {
			ValLoss float64 `json:"val_loss"`
		} `json:"epochs"`
	}
	read(filepath.Join(dir, "metrics.json"), &m)
	read(filepath.Join(dir, "history.json"), &h)

	fail := false
	if !(m.TestAccuracy >= lo && m.TestAccuracy <= hi) {
		fmt.Printf("FAIL test accuracy %.4f outside [%.2f, %.2f]\n", m.TestAccuracy, lo, hi)
		fail = true
	}
	// Keras 3 EarlyStopping(patience, min_delta=0) on the recorded series.
	best, bestEpoch, wait, stop := math.Inf(1), 0, 0, m.Config.Epochs
	for e, r := range h.Epochs {
		wait++
		if r.ValLoss < best {
			best, bestEpoch, wait = r.ValLoss, e, 0
		} else if wait >= patience && e > 0 {
			stop = e + 1
			break
		}
	}
	if stop != m.EpochsRun || len(h.Epochs) != m.EpochsRun {
		fmt.Printf("FAIL epochs run %d (history %d), early stopping on the history says %d\n", m.EpochsRun, len(h.Epochs), stop)
		fail = true
	}
	if bestEpoch+1 != m.BestEpoch {
		fmt.Printf("FAIL best epoch %d, the history's lowest val_loss is at epoch %d\n", m.BestEpoch, bestEpoch+1)
		fail = true
	}
	if fail {
		os.Exit(1)
	}
	fmt.Printf("ok run %s: test accuracy %.4f, %d epochs, best epoch %d (val_loss %.4f)\n", dir, m.TestAccuracy, m.EpochsRun, m.BestEpoch, best)
}

func read(name string, v any) {
	b, err := os.ReadFile(name)
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "checkrun: %s: %v\n", name, err)
		os.Exit(1)
	}
}
