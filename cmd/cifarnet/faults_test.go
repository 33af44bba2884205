package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestNaNRunStillWritesEverything diverges on purpose (learning rate 1e30).
func TestNaNRunStillWritesEverything(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	_, stderr, code := run(t, "train", "--data", sharedData(t), "--out", out, "--train-samples", "1000", "--test-samples", "100",
		"--epochs", "5", "--hidden", "32", "--lr", "1e30", "-q")
	if code != 0 || !strings.Contains(stderr, "loss became") || !strings.Contains(stderr, "at epoch") || !strings.Contains(stderr, "step") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var m map[string]any
	b, err := os.ReadFile(filepath.Join(out, "metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(b, &m)
	if s, _ := m["terminated"].(string); !strings.Contains(s, "training stopped") {
		t.Fatalf("metrics.json terminated = %v", m["terminated"])
	}
	for _, f := range []string{"history.json", "report.html", "model.safetensors"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	if h, err := os.ReadFile(filepath.Join(out, "history.json")); err != nil || !json.Valid(h) {
		t.Errorf("history.json (err %v):\n%s", err, h)
	}

	// The model is NaN: evaluate prints NaN and writes it as null (it used
	// to fail writing evaluation.json, exit 1); predict --json answers null
	// probabilities (it used to print an empty line, exit 0).
	stdout, stderr, code := run(t, "evaluate", "--model", out, "--data", sharedData(t), "--test-samples", "100")
	if code != 0 || !strings.Contains(stdout, "Test loss: NaN") {
		t.Fatalf("evaluate: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	var ev map[string]any
	b, err = os.ReadFile(filepath.Join(out, "evaluation.json"))
	if err != nil || json.Unmarshal(b, &ev) != nil {
		t.Fatalf("evaluation.json: %v\n%s", err, b)
	}
	if loss, ok := ev["loss"]; !ok || loss != nil {
		t.Errorf("evaluation.json loss = %v, want null", loss)
	}
	stdout, stderr, code = run(t, "predict", "--model", out, "--json", filepath.Join(out, "samples.png"))
	var preds []map[string]any
	if code != 0 || json.Unmarshal([]byte(stdout), &preds) != nil || len(preds) != 1 || !strings.Contains(stdout, `"probability": null`) {
		t.Errorf("predict --json: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// emptyMachine runs the binary with no data anywhere it looks.
func emptyMachine(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return emptyCache(t, t.TempDir(), args...)
}

// emptyCache is emptyMachine whose user cache directory is cache.
func emptyCache(t *testing.T, cache string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "XDG_CACHE_HOME="+cache, "CIFARNET_DATA=")
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if x, ok := err.(*exec.ExitError); ok {
		code = x.ExitCode()
	}
	return out.String(), errOut.String(), code
}

func TestOfflineSaysWhereItLooked(t *testing.T) {
	_, stderr, code := emptyMachine(t, "train", "--offline", "--epochs", "1")
	if code != 1 || !strings.Contains(stderr, "offline") || !strings.Contains(stderr, ".keras/datasets/cifar-10-python.tar.gz") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

func TestDownloadCommandRefusesABadFile(t *testing.T) {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("not the CIFAR-10 archive"))
	}))
	defer s.Close()
	_, stderr, code := emptyMachine(t, "download", "--url", s.URL)
	// Refused on its announced size (the archive's size is known), before
	// any byte is kept; a file of the right size would fail the MD5.
	if code != 1 || !strings.Contains(stderr, "170052171") || !strings.Contains(stderr, "refused") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

// TestDownloadWithoutNetworkSaysWhatToDo: a download that cannot connect
// (a closed port stands for no network) says how to go on without one:
// where in the cache to copy the files, or --data.
func TestDownloadWithoutNetworkSaysWhatToDo(t *testing.T) {
	s := httptest.NewServer(http.NotFoundHandler())
	url := s.URL
	s.Close() // nothing listens there now
	cache := t.TempDir()
	for _, tt := range []struct{ dataset, dest string }{
		{"cifar10", "cifar-10-binary.tar.gz"},
		{"fashion_mnist", "fashion-mnist"},
	} {
		_, stderr, code := emptyCache(t, cache, "download", "--dataset", tt.dataset, "--url", url)
		want := "without a network, get them by other means and put them at " + filepath.Join(cache, "cifarnet", tt.dest) + " (train looks there)"
		if code != 1 || !strings.Contains(stderr, want) || !strings.Contains(stderr, "--data") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%s: exit %d, stderr %q, want it to say %q", tt.dataset, code, stderr, want)
		}
	}
}

// TestUnwritableOut: a file in --out's path is a usage error (exit 2, as
// --out's other problems are), naming --out.
func TestUnwritableOut(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	os.WriteFile(file, []byte("x"), 0o644)
	_, stderr, code := run(t, "train", "--data", sharedData(t), "--out", filepath.Join(file, "run"))
	if code != 2 || !strings.Contains(stderr, "--out") || !strings.Contains(stderr, "not a directory") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

// TestNaNStopSaysWhatTheModelHolds: a loss that becomes infinite after some
// epochs (a learning rate multiplied by 1e20 at each epoch's end) stops the
// run; the warning says which weights the model holds: with --patience -1
// the last complete epoch's, because early stopping is off (it used to
// blame --restore-best=false, which was true), and they are that epoch's:
// the same model as the run stopped there (it held the overflowing
// weights of the failing epoch's first steps); else the best epoch's.
func TestNaNStopSaysWhatTheModelHolds(t *testing.T) {
	args := []string{"train", "--data", sharedData(t), "--train-samples", "500", "--test-samples", "100", "--hidden", "16", "--epochs", "6",
		"--lr-schedule", "exponential", "--decay-steps", "13", "--decay-rate", "1e20", "--staircase", "-q"}
	for _, tc := range []struct {
		extra []string
		want  string
	}{
		{[]string{"--patience", "-1"}, "the model keeps epoch 3's weights, the last complete epoch's (early stopping is off, --patience -1"},
		{nil, "the model keeps epoch"},
	} {
		out := filepath.Join(t.TempDir(), "r")
		_, stderr, code := run(t, append(append(args, "--out", out), tc.extra...)...)
		if code != 0 || !strings.Contains(stderr, "training stopped") || !strings.Contains(stderr, tc.want) || strings.Contains(stderr, "--restore-best=false") {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.extra, code, stderr, tc.want)
		}
		if tc.extra == nil {
			continue
		}
		three := filepath.Join(t.TempDir(), "three")
		if _, stderr, code := run(t, append(append(args, "--out", three, "--epochs", "3"), tc.extra...)...); code != 0 {
			t.Fatalf("3 epochs: exit %d %s", code, stderr)
		}
		a, _ := os.ReadFile(filepath.Join(out, "model.safetensors"))
		b, _ := os.ReadFile(filepath.Join(three, "model.safetensors"))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("the stopped run's model is not its third epoch's (the run of 3 epochs)")
		}
	}
}
