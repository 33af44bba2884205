package train

import (
	"bytes"
	"errors"
	"maps"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cifarnet/cifarnet/safetensors"
)

// interruptedCheckpoint trains a small run to a step inside epoch 2 and
// returns its checkpoint, saved in dir.
func interruptedCheckpoint(t *testing.T, dir string) *Checkpoint {
	t.Helper()
	data := realData(t, 600, 200)
	cfg := smallConfig()
	cfg.Epochs, cfg.Patience = 4, 1
	model, _ := cfg.NewModel()
	model.Initialize(cfg.Seed)
	calls := 0
	_, err := FitAndEvaluateFrom(cfg, data, model, nil, func() bool { calls++; return calls == 7 })
	var intr *Interrupted
	if !errors.As(err, &intr) {
		t.Fatalf("no interruption: %v", err)
	}
	intr.Checkpoint.DataSHA256 = strings.Repeat("ab", 32)
	if err := intr.Checkpoint.Save(dir); err != nil {
		t.Fatal(err)
	}
	return intr.Checkpoint
}

// TestCheckpointIsOneFile: the checkpoint is a single file, so its parts
// cannot come from two moments or two runs (a kill between the renames of
// two files used to leave tensors of one moment beside the scalars of
// another, resumed silently).
func TestCheckpointIsOneFile(t *testing.T) {
	dir := t.TempDir()
	interruptedCheckpoint(t, dir)
	es, _ := os.ReadDir(dir)
	if len(es) != 1 || es[0].Name() != CheckpointFile {
		t.Fatalf("checkpoint files %v, want only %s", es, CheckpointFile)
	}
	if _, err := LoadCheckpoint(dir); err != nil {
		t.Fatal(err)
	}
	// A checkpoint of the old two-file format is refused, not trusted.
	old := t.TempDir()
	os.WriteFile(filepath.Join(old, "checkpoint.json"), []byte("{}"), 0o644)
	if _, err := LoadCheckpoint(old); err == nil || !strings.Contains(err.Error(), "two-file format") {
		t.Fatalf("two-file checkpoint: %v", err)
	}
}

// TestCheckpointFieldsValidated: every edited field is refused at load
// with its name; they used to panic or change the run without a word.
func TestCheckpointFieldsValidated(t *testing.T) {
	base := t.TempDir()
	good := interruptedCheckpoint(t, base)
	tests := []struct {
		name string
		edit func(c *Checkpoint)
		want string
	}{
		{"negative step", func(c *Checkpoint) { c.Step = -1 }, "step -1"},
		{"step past the epoch", func(c *Checkpoint) { c.Step = 1000 }, "step 1000"},
		{"epoch past the end", func(c *Checkpoint) { c.Epoch = c.Config.Epochs + 3 }, "epoch 7"},
		{"negative epoch", func(c *Checkpoint) { c.Epoch = -2 }, "epoch -2"},
		{"history disagrees", func(c *Checkpoint) { c.History.Epochs = c.History.Epochs[:0] }, "history holds 0 epochs"},
		{"order entry out of range", func(c *Checkpoint) { c.Order[3] = 100000 }, "order[3] = 100000"},
		{"order entry negative", func(c *Checkpoint) { c.Order[0] = -5 }, "order[0] = -5"},
		{"order entry duplicated", func(c *Checkpoint) { c.Order[1] = c.Order[0] }, "order[1]"},
		{"order too short", func(c *Checkpoint) { c.Order = c.Order[:10] }, "order of 10 samples"},
		{"tensor missing", func(c *Checkpoint) { c.Weights = c.Weights[:len(c.Weights)-1] }, "weights:"},
		{"tensor of the wrong size", func(c *Checkpoint) { c.Weights[0] = c.Weights[0][:5] }, "weights: tensor 0"},
		{"seen past the samples", func(c *Checkpoint) { c.Seen = 1 << 30 }, "seen 1073741824"},
		{"config invalid", func(c *Checkpoint) { c.Config.BatchSize = 0 }, "config:"},
		{"random state", func(c *Checkpoint) { c.RNG = []byte("x") }, "rng:"},
		{"early stopping", func(c *Checkpoint) { c.Early.BestEpoch = 99 }, "early_stopping"},
		{"data checksum", func(c *Checkpoint) { c.DataSHA256 = "abc" }, "data_sha256"},
		// A NaN is written as null, which would read back as 0.
		{"loss sum NaN", func(c *Checkpoint) { c.LossSum = math.NaN() }, "loss_sum is missing or null"},
		{"history loss NaN", func(c *Checkpoint) { c.History.Epochs[0].Loss = math.NaN() }, "history epoch 1"},
		{"history val_loss negative", func(c *Checkpoint) { c.History.Epochs[0].ValLoss = -1e300 }, "history epoch 1"},
		{"history accuracy past 1", func(c *Checkpoint) { c.History.Epochs[0].Accuracy = 7 }, "history epoch 1"},
		{"history epoch renumbered", func(c *Checkpoint) { c.History.Epochs[0].Epoch = 77 }, "history epoch 77 (entry 1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadCheckpoint(base)
			if err != nil {
				t.Fatal(err)
			}
			if c.Epoch != good.Epoch || c.Step != good.Step {
				t.Fatalf("reloaded epoch %d step %d, saved %d %d", c.Epoch, c.Step, good.Epoch, good.Step)
			}
			tt.edit(c)
			dir := t.TempDir()
			if err := c.Save(dir); err != nil {
				t.Fatal(err)
			}
			_, err = LoadCheckpoint(dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "invalid checkpoint") {
				t.Fatalf("error %v, want one naming %q", err, tt.want)
			}
		})
	}
}

// TestCheckpointDataDamaged: a checkpoint whose tensor bytes were damaged
// (one byte flipped, a run of 0xff) is refused, naming the file; the JSON
// was checked field by field, but the tensors were resumed silently (a
// different model, or a NaN loss). A checkpoint of an earlier version,
// without the checksum, is still read.
func TestCheckpointDataDamaged(t *testing.T) {
	dir := t.TempDir()
	interruptedCheckpoint(t, dir)
	name := filepath.Join(dir, CheckpointFile)
	good, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	st, err := safetensors.Read(bytes.NewReader(good), int64(len(good)))
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Metadata[checksumKey]) != 8 {
		t.Fatalf("%s = %q, want 8 hex digits", checksumKey, st.Metadata[checksumKey])
	}
	headerEnd := len(good) - 4*countValues(st.Tensors)
	damages := map[string]func(b []byte){
		"first data byte": func(b []byte) { b[headerEnd] ^= 1 },
		"one bit inside":  func(b []byte) { b[(headerEnd+len(b))/2] ^= 0x10 },
		"last byte":       func(b []byte) { b[len(b)-1] ^= 0x80 },
		"16 bytes 0xff": func(b []byte) {
			for i := range 16 {
				b[(headerEnd+len(b))/3+i] = 0xff
			}
		},
	}
	for what, damage := range damages {
		b := bytes.Clone(good)
		damage(b)
		if err := os.WriteFile(name, b, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadCheckpoint(dir)
		if err == nil || !strings.Contains(err.Error(), "tensor data is damaged") || !strings.Contains(err.Error(), name) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want one line naming %s and the damaged tensor data", what, err, name)
		}
	}
	// A checksum that is not the data's, whatever it reads, is refused too.
	for _, sum := range []string{"00000000", "xyz", ""} {
		rewrite(t, name, st, func(md map[string]string) { md[checksumKey] = sum })
		if _, err := LoadCheckpoint(dir); err == nil || !strings.Contains(err.Error(), "tensor data is damaged") {
			t.Errorf("checksum %q: error %v", sum, err)
		}
	}
	// An earlier version's checkpoint has no checksum: read as before.
	rewrite(t, name, st, func(md map[string]string) { delete(md, checksumKey) })
	if _, err := LoadCheckpoint(dir); err != nil {
		t.Fatalf("a checkpoint without a checksum: %v", err)
	}
	if err := os.WriteFile(name, good, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCheckpoint(dir); err != nil {
		t.Fatal(err)
	}
}

func countValues(ts []safetensors.Tensor) int {
	n := 0
	for _, t := range ts {
		n += len(t.Data)
	}
	return n
}

// rewrite writes st's tensors into name with its metadata edited.
func rewrite(t *testing.T, name string, st *safetensors.File, edit func(map[string]string)) {
	t.Helper()
	md := maps.Clone(st.Metadata)
	edit(md)
	var b bytes.Buffer
	if err := safetensors.Write(&b, st.Tensors, md); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
