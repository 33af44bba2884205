package train

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Backup saves checkpoints while Fit runs, as Keras's BackupAndRestore
// callback does (keras/src/callbacks/backup_and_restore.py), so that a
// process killed without warning (SIGKILL, the out-of-memory killer, a
// node that fails) loses only what it trained since the last one. Unlike
// Keras's, the checkpoint holds the whole state (the optimizer, the
// sampler, the callbacks): resuming from it gives the same bits as never
// having stopped.
type Backup struct {
	Freq BackupFreq
	// Save stores the checkpoint (Fit's part of it: the caller adds the
	// configuration and the callbacks' states); its error ends Fit.
	Save func(*Checkpoint) error
}

// BackupFreq is when a Backup saves. The zero value saves at every epoch
// end, Keras's save_freq="epoch".
type BackupFreq struct {
	// Auto saves at the epoch ends that keep the backups' time under
	// AutoBackupShare of the training time: at the first epoch end after
	// the last backup took that share of the training since (cifarnet's
	// own; Keras has no such setting). Where saving is cheap next to an
	// epoch, that is every epoch end.
	Auto bool
	// Batches > 0 saves every Batches batches, Keras's integer save_freq.
	Batches int
	// Every > 0 saves at the first epoch end after at least Every of
	// training since the last save (cifarnet's own; Keras has no such
	// setting): the cost of saving stays a small share of the training
	// whatever an epoch takes.
	Every time.Duration
}

// AutoBackupShare is the share of the training time that automatic
// backups stay under.
const AutoBackupShare = 0.02

// MaxBackupBatches bounds an integer backup frequency.
const MaxBackupBatches = 1 << 30

// ParseBackupFreq reads a backup frequency: "epoch", "auto", a number of
// batches, or a duration such as "10s" or "2m" (rounded up to an epoch
// end).
func ParseBackupFreq(s string) (BackupFreq, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "epoch":
		return BackupFreq{}, nil
	case "auto":
		return BackupFreq{Auto: true}, nil
	}
	if n, err := strconv.Atoi(s); err == nil {
		if n < 1 || n > MaxBackupBatches {
			return BackupFreq{}, fmt.Errorf("%d batches: want 1 to %d", n, MaxBackupBatches)
		}
		return BackupFreq{Batches: n}, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return BackupFreq{}, fmt.Errorf("%q: want \"epoch\", \"auto\", a number of batches or a duration such as 30s", s)
	}
	if d <= 0 || d > 365*24*time.Hour {
		return BackupFreq{}, fmt.Errorf("%s: want a duration above 0 and at most a year", s)
	}
	return BackupFreq{Every: d}, nil
}

// String is the frequency as ParseBackupFreq reads it.
func (f BackupFreq) String() string {
	switch {
	case f.Auto:
		return "auto"
	case f.Batches > 0:
		return strconv.Itoa(f.Batches)
	case f.Every > 0:
		return f.Every.String()
	}
	return "epoch"
}

// backupClock tells Fit when a backup is due.
type backupClock struct {
	freq    BackupFreq
	batches int           // trained since the last save (or the start)
	since   time.Time     // the end of the last save (or the start)
	cost    time.Duration // what the last save took
}

func newBackupClock(f BackupFreq) *backupClock { return &backupClock{freq: f, since: time.Now()} }

// due tells whether to save before step of an epoch.
func (c *backupClock) due(step int) bool {
	switch {
	case c.batches == 0:
		return false
	case c.freq.Batches > 0:
		return c.batches >= c.freq.Batches
	case step != 0:
		return false
	case c.freq.Every > 0:
		return time.Since(c.since) >= c.freq.Every
	case c.freq.Auto:
		return c.cost <= time.Duration(AutoBackupShare*float64(time.Since(c.since)))
	}
	return true
}

// saved records a save that began at start.
func (c *backupClock) saved(start time.Time) {
	c.batches, c.since = 0, time.Now()
	c.cost = c.since.Sub(start)
}
