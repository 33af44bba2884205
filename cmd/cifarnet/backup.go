package main

import (
	"github.com/spf13/pflag"

	"github.com/cifarnet/cifarnet/train"
)

// backupFlag is --backup-and-restore: Keras's BackupAndRestore callback,
// the value its save_freq, or "off".
type backupFlag struct{ freq *train.BackupFreq }

func (b *backupFlag) String() string {
	if b.freq == nil {
		return "off"
	}
	return b.freq.String()
}

func (b *backupFlag) Type() string { return "freq" }

func (b *backupFlag) Set(s string) error {
	if s == "off" {
		b.freq = nil
		return nil
	}
	f, err := train.ParseBackupFreq(s)
	if err != nil {
		return err
	}
	b.freq = &f
	return nil
}

// addBackupFlag registers --backup-and-restore with the default def (nil:
// off), explained by what.
func addBackupFlag(fs *pflag.FlagSet, b *backupFlag, def *train.BackupFreq, what string) {
	b.freq = def
	fs.Var(b, "backup-and-restore", `save the run's checkpoint as it trains, as Keras's BackupAndRestore callback does, so that a process killed without warning (SIGKILL, out of memory, a failed node) loses only what it trained since: "epoch" (every epoch end, Keras's save_freq="epoch"), "auto" (the epoch ends that keep the backups under 2% of the training time), a number of batches, a duration such as 10s (at the first epoch end after that much training), or "off"; `+what)
}
