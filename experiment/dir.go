package experiment

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cifarnet/cifarnet/internal/lockfile"
	"github.com/cifarnet/cifarnet/internal/oserr"
)

// LockFile, in an experiment directory, is locked (flock) while a command
// compares its experiment with spec.json and records it, so that two
// commands started together take turns; UseFile is locked shared by every
// command using the experiment, from then until it ends, so that an
// experiment none of whose runs began yet is replaced only when no
// command is about to begin them.
const (
	LockFile = ".cifarnet.lock"
	UseFile  = ".cifarnet.use"
)

// Use is a command's hold on an experiment directory (see RecordSpec),
// released by Release or when the process ends, however it ends.
type Use struct{ lock *lockfile.Lock }

// Release ends the hold.
func (u *Use) Release() {
	if u != nil {
		u.lock.Unlock()
	}
}

// use takes a hold on dir's experiment, saying whether another command
// holds one; the caller holds LockFile, so no other command takes or
// tests a hold meanwhile.
func use(dir string) (u *Use, live bool, err error) {
	name := filepath.Join(dir, UseFile)
	l, err := lockfile.TryLock(name)
	switch {
	case errors.Is(err, lockfile.ErrHeld):
		live = true
	case err != nil:
		return nil, false, fmt.Errorf("experiment %s: %w", dir, oserr.Bare(err))
	default:
		l.Unlock()
	}
	if l, err = lockfile.TryShared(name); err != nil {
		return nil, false, fmt.Errorf("experiment %s: %w", dir, oserr.Bare(err))
	}
	return &Use{l}, live, nil
}

// NotExperimentError is a directory given as an experiment's that holds
// files and no spec.json (a run's directory, files of the user's):
// recording an experiment there would overwrite them.
type NotExperimentError struct{ Dir string }

func (e *NotExperimentError) Error() string {
	return fmt.Sprintf("experiment %s: not an experiment directory: it holds files and no %s; use a new or empty directory", e.Dir, SpecFile)
}

// checkExperimentDir refuses a directory that holds files and no
// spec.json; the locks and a temporary of spec.json left by a command
// killed before it recorded the spec are not files of anyone's. A
// spec.json listed is one (or one the reading names), however it came
// there since: another command may be recording it.
func checkExperimentDir(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("experiment %s: %w", dir, oserr.Bare(err))
	}
	other := false
	for _, e := range ents {
		switch n := e.Name(); {
		case n == SpecFile:
			return nil
		case n != LockFile && n != UseFile && !strings.HasPrefix(n, "."+SpecFile+".tmp"):
			other = true
		}
	}
	if other {
		return &NotExperimentError{Dir: dir}
	}
	return nil
}
