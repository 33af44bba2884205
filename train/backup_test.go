package train

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cifarnet/cifarnet/cifar10"
	"github.com/cifarnet/cifarnet/dataset"
)

func TestParseBackupFreq(t *testing.T) {
	for in, want := range map[string]BackupFreq{"epoch": {}, "auto": {Auto: true}, "7": {Batches: 7}, " 30s": {Every: 30 * time.Second}, "2m": {Every: 2 * time.Minute}} {
		got, err := ParseBackupFreq(in)
		if err != nil || got != want {
			t.Errorf("%q: %+v %v, want %+v", in, got, err, want)
		}
		if back, err := ParseBackupFreq(got.String()); err != nil || back != got {
			t.Errorf("%q: String %q reads back as %+v %v", in, got.String(), back, err)
		}
	}
	for _, in := range []string{"", "0", "-3", "epochs", "Auto", "1.5", "-2s", "0s", "9999999h", "2147483648"} {
		if f, err := ParseBackupFreq(in); err == nil {
			t.Errorf("%q accepted as %+v", in, f)
		}
	}
}

// TestBackupResume backs a run up at every epoch end and every 3 batches,
// then resumes from each backup saved (as after a SIGKILL just after it)
// and wants everything equal to a run never backed up nor stopped.
func TestBackupResume(t *testing.T) {
	data := realData(t, 600, 200)
	cfg := smallConfig()
	cfg.Epochs, cfg.Patience = 4, 1 // early stopping's state matters too
	want, err := FitAndEvaluate(cfg, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	// 480 training samples in batches of 128: 4 steps an epoch.
	for _, c := range []struct {
		freq  BackupFreq
		saves [][2]int // epoch, step of each backup
	}{
		{BackupFreq{}, [][2]int{{1, 0}, {2, 0}, {3, 0}}},
		{BackupFreq{Batches: 3}, [][2]int{{0, 3}, {1, 2}, {2, 1}, {3, 0}, {3, 3}}},
		{BackupFreq{Every: time.Hour}, nil},
		{BackupFreq{Auto: true}, nil}, // where depends on the clock: checked below
	} {
		t.Run(c.freq.String(), func(t *testing.T) {
			var dirs []string
			var at [][2]int
			save := func(ck *Checkpoint) error {
				dir := t.TempDir()
				dirs, at = append(dirs, dir), append(at, [2]int{ck.Epoch, ck.Step})
				return ck.Save(dir)
			}
			model, _ := cfg.NewModel()
			model.Initialize(cfg.Seed)
			got, err := FitAndEvaluateWith(cfg, data, model, Control{Backup: &Backup{Freq: c.freq, Save: save}})
			if err != nil {
				t.Fatal(err)
			}
			if c.freq.Auto {
				// The first epoch end always; then epoch ends only.
				if len(at) == 0 || at[0] != [2]int{1, 0} {
					t.Fatalf("automatic backups at %v: want the first at the end of epoch 1", at)
				}
				for _, a := range at {
					if a[1] != 0 {
						t.Fatalf("automatic backups at %v: want epoch ends only", at)
					}
				}
			} else if fmt.Sprint(at) != fmt.Sprint(c.saves) {
				t.Fatalf("backups at (epoch, step) %v, want %v", at, c.saves)
			}
			sameOutcome(t, want, got)
			for i, dir := range dirs {
				ck, err := LoadCheckpoint(dir)
				if err != nil {
					t.Fatal(err)
				}
				if ck.Config.Seed != cfg.Seed || ck.Early == nil || ck.TrainSeconds <= 0 {
					t.Fatalf("backup %d lacks what only FitAndEvaluate knows: config seed %d, early stopping %v, train seconds %g", i, ck.Config.Seed, ck.Early, ck.TrainSeconds)
				}
				out, err := Resume(ck, data, nil, nil)
				if err != nil {
					t.Fatal(err)
				}
				sameOutcome(t, want, out)
			}
		})
	}
}

// sameOutcome wants got's weights, history and test results equal to want's.
func sameOutcome(t *testing.T, want, got *Outcome) {
	t.Helper()
	sameWeights(t, want.Model, got.Model)
	if len(got.History.Epochs) != len(want.History.Epochs) {
		t.Fatalf("%d epochs, want %d", len(got.History.Epochs), len(want.History.Epochs))
	}
	for i := range want.History.Epochs {
		if got.History.Epochs[i].Logs != want.History.Epochs[i].Logs {
			t.Fatalf("epoch %d logs differ: %+v vs %+v", i+1, got.History.Epochs[i].Logs, want.History.Epochs[i].Logs)
		}
	}
	if got.Test.Loss != want.Test.Loss || got.BestEpoch() != want.BestEpoch() {
		t.Fatalf("test loss %v best %d, want %v %d", got.Test.Loss, got.BestEpoch(), want.Test.Loss, want.BestEpoch())
	}
}

// BenchmarkBackup trains the exercise (one thread) backing it up at every
// epoch end, and automatically, into a temporary directory and reports
// what the backups cost: milliseconds a backup (the state copied, encoded,
// written and synced), their share of the training time, and the training
// time between two backups. The wall times come
// from the same process, so the share holds on a busy machine too.
func BenchmarkBackup(b *testing.B) {
	src := filepath.Join("..", "..", "shared", cifar10.DirName)
	if _, err := os.Stat(src); err != nil {
		b.Skipf("real data not found at %s", src)
	}
	data, err := cifar10.Load(src, 5000, 1000)
	if err != nil {
		b.Fatal(err)
	}
	for _, freq := range []BackupFreq{{}, {Auto: true}} {
		b.Run(freq.String(), func(b *testing.B) { benchmarkBackup(b, data, freq) })
	}
}

func benchmarkBackup(b *testing.B, data *dataset.Data, freq BackupFreq) {
	cfg := Exercise()
	cfg.Threads = 1
	dir := b.TempDir()
	var saves int
	var saving time.Duration
	var training float64
	for i := 0; i < b.N; i++ {
		model, _ := cfg.NewModel()
		model.Initialize(cfg.Seed)
		out, err := FitAndEvaluateWith(cfg, data, model, Control{Backup: &Backup{Freq: freq, Save: func(ck *Checkpoint) error {
			start := time.Now()
			defer func() { saving += time.Since(start); saves++ }()
			return ck.Save(dir)
		}}})
		if err != nil {
			b.Fatal(err)
		}
		training += out.TrainSeconds
	}
	b.ReportMetric(float64(saving.Milliseconds())/float64(saves), "ms/backup")
	b.ReportMetric(100*saving.Seconds()/training, "%-of-training")
	b.ReportMetric(training/float64(saves), "s-training/backup")
}

// TestEpochStartKeptOnlyWithoutRestoring: mid-epoch checkpoints carry the
// weights at the epoch's start (for a stop by a non-finite loss) while
// nothing else would put weights back, and not once early stopping holds
// best weights it will restore: then those go back, and a copy of the
// epoch's start would be made every epoch for nothing.
func TestEpochStartKeptOnlyWithoutRestoring(t *testing.T) {
	data := realData(t, 600, 200)
	for _, restore := range []bool{false, true} {
		cfg := smallConfig()
		cfg.Epochs, cfg.Patience, cfg.RestoreBest = 3, 5, restore
		model, _ := cfg.NewModel()
		model.Initialize(cfg.Seed)
		var mid []*Checkpoint // 4 steps an epoch: a backup every 3 batches
		save := func(ck *Checkpoint) error {
			if ck.Epoch > 0 && ck.Step > 0 {
				mid = append(mid, ck)
			}
			return nil
		}
		if _, err := FitAndEvaluateWith(cfg, data, model, Control{Backup: &Backup{Freq: BackupFreq{Batches: 3}, Save: save}}); err != nil {
			t.Fatal(err)
		}
		if len(mid) == 0 {
			t.Fatalf("restore %v: no mid-epoch checkpoint after the first epoch", restore)
		}
		for _, ck := range mid {
			if kept := ck.EpochStart != nil; kept == restore || (restore && ck.Early.BestWeights == nil) {
				t.Errorf("restore %v: checkpoint at epoch %d step %d: epoch start kept %v, best weights %v", restore, ck.Epoch, ck.Step, kept, ck.Early.BestWeights != nil)
			}
		}
	}
}
