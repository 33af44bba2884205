package rundir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cifarnet/cifarnet/internal/dirswap"
	"github.com/cifarnet/cifarnet/internal/lockfile"
	"github.com/cifarnet/cifarnet/internal/oserr"
	"github.com/cifarnet/cifarnet/train"
)

// LockFile is the file inside a run directory whose lock (flock) the
// process owning the run holds from start to end. The kernel releases it
// when the process ends, however it ends.
const LockFile = ".cifarnet.lock"

// ErrBusy is the DirError's Err when another process owns the directory.
var ErrBusy = errors.New("is in use by another cifarnet process (its lock is held)")

// ErrFinished is the DirError's Err when a run is to be resumed from a
// directory holding a finished run (its checkpoint removed).
var ErrFinished = errors.New("holds a finished run: nothing to resume")

// ErrNotRun is the DirError's Err when the directory holds files but no
// run, and overwriting was not asked for.
var ErrNotRun = errors.New("holds files that are not a cifarnet run")

// ErrHoldsData is the DirError's Err when the directory is, or holds, the
// data the run reads: replacing it would delete the data.
var ErrHoldsData = errors.New("is or holds the data the run reads")

// Holds tells whether path p is dir or lies inside it (symbolic links
// resolved where they can be).
func Holds(dir, p string) bool {
	d, err1 := filepath.Abs(dir)
	q, err2 := filepath.Abs(p)
	if err1 != nil || err2 != nil {
		return false
	}
	if r, err := filepath.EvalSymlinks(d); err == nil {
		d = r
	}
	if r, err := filepath.EvalSymlinks(q); err == nil {
		q = r
	}
	rel, err := filepath.Rel(d, q)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// Dir is a run directory owned by this process: no other cifarnet process
// can use it until Close. A run replacing another (overwrite) is written
// into a staging directory beside it (Staging), and Commit swaps it in
// whole, so that a reader sees the old run or the new one, never a mix.
// Until then the old run stays: a replacing run that is interrupted or
// killed leaves its checkpoint (its backups) in the staging directory,
// kept until the replacing run, continued from it, completes.
type Dir struct {
	Path  string // the run directory
	Write string // where the run's files go: Path, or the staging directory
	lock  *lockfile.Lock
}

// Open takes the run directory dir for this process, creating it. A
// directory already holding a run (or files of the user's) is refused
// unless overwrite is set; resume continues the run in place. "" is a new
// runs/<timestamp> directory that never collides with another. Stale
// temporaries of a process that was killed while saving are removed.
func Open(dir string, overwrite, resume bool) (*Dir, error) {
	return open(resolveLink(dir), overwrite, resume, false, nil)
}

// OpenStaged takes dir to continue the replacing run whose checkpoint is
// in its staging directory (Staging): the run's files go on being written
// there, and Commit swaps them in.
func OpenStaged(dir string) (*Dir, error) {
	return open(resolveLink(dir), true, false, true, nil)
}

// Staging is the staging directory of a run replacing the one in dir.
// dir is the run's own path, a link already resolved (resolveLink), as
// Train and a Dir hold it.
func Staging(dir string) string {
	dir = filepath.Clean(dir)
	return filepath.Join(filepath.Dir(dir), stagingPrefix(dir)+"run")
}

// resolveLink returns dir cleaned ("runs/x/": the staging directory goes
// beside x, not in it) and, where it is a symbolic link, the directory it
// points to: a link to a run is the run, and an overwrite replaces the
// run, not the link (which a swap beside the link would), and continues
// from the staging directory beside the run.
func resolveLink(dir string) string {
	if dir == "" {
		return "" // a new runs/<timestamp> directory
	}
	dir = filepath.Clean(dir)
	if fi, err := os.Lstat(dir); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		if target, err := filepath.EvalSymlinks(dir); err == nil {
			return target
		}
	}
	return dir
}

// open takes dir, a link already resolved (resolveLink; Train resolves
// its Dir once); locked, if not nil, is dir's lock, already taken
// (lockToResume), which the Dir then owns.
func open(dir string, overwrite, resume, staged bool, locked *lockfile.Lock) (*Dir, error) {
	if dir == "" {
		return openNew()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, &DirError{dir, fmt.Errorf("cannot create it: %w", oserr.Bare(err))}
	}
	lock := locked
	if lock == nil {
		var err error
		lock, err = lockfile.TryLock(filepath.Join(dir, LockFile))
		if errors.Is(err, lockfile.ErrHeld) {
			return nil, &DirError{dir, ErrBusy}
		}
		if err != nil {
			return nil, &DirError{dir, fmt.Errorf("not writable: %w", oserr.Bare(err))}
		}
	}
	d := &Dir{Path: dir, Write: dir, lock: lock}
	d.cleanStale()
	held, err := contents(dir)
	if err != nil {
		d.Close()
		return nil, &DirError{dir, fmt.Errorf("cannot read it: %w", oserr.Bare(err))}
	}
	switch {
	case staged:
		if err := d.stage(true); err != nil {
			d.Close()
			return nil, err
		}
	case resume || len(held) == 0:
	case !overwrite && isRun(held):
		d.Close()
		return nil, &DirError{dir, ErrExists}
	case !overwrite:
		d.Close()
		return nil, &DirError{dir, fmt.Errorf("%w (%s)", ErrNotRun, strings.Join(held[:min(len(held), 3)], ", "))}
	default:
		// Replace as a unit: write beside, swap in at Commit.
		if err := d.stage(false); err != nil {
			d.Close()
			return nil, err
		}
	}
	if err := Writable(d.Write); err != nil {
		d.Close()
		return nil, &DirError{dir, err}
	}
	return d, nil
}

// stage makes d write into the staging directory: the one there when
// keep (a replacing run continued), else a new one (what an earlier
// replacing run left there is not continued, and goes).
func (d *Dir) stage(keep bool) error {
	stage := Staging(d.Path)
	if !keep {
		if err := os.RemoveAll(stage); err != nil {
			return &DirError{d.Path, fmt.Errorf("cannot remove the staging directory beside it: %w", oserr.Bare(err))}
		}
		if err := os.Mkdir(stage, 0o755); err != nil {
			return &DirError{d.Path, fmt.Errorf("cannot create a directory beside it: %w", oserr.Bare(err))}
		}
	}
	// The lock file's inode goes with the swap, so the lock still guards
	// the path.
	removeTemps(stage)
	os.Remove(filepath.Join(stage, LockFile))
	if err := os.Link(filepath.Join(d.Path, LockFile), filepath.Join(stage, LockFile)); err != nil {
		if !keep {
			os.RemoveAll(stage)
		}
		return &DirError{d.Path, fmt.Errorf("cannot prepare the replacement: %w", oserr.Bare(err))}
	}
	d.Write = stage
	return nil
}

// openNew makes a new runs/<timestamp>[-N] directory, exclusively.
func openNew() (*Dir, error) {
	base := filepath.Join("runs", time.Now().Format("20060102-150405"))
	if err := os.MkdirAll("runs", 0o755); err != nil {
		return nil, &DirError{"runs", fmt.Errorf("cannot create it: %w", oserr.Bare(err))}
	}
	dir := base
	for i := 2; ; i++ {
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			break
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, &DirError{dir, fmt.Errorf("cannot create it: %w", oserr.Bare(err))}
		}
		dir = fmt.Sprintf("%s-%d", base, i)
	}
	return Open(dir, false, false)
}

// Commit makes the files written into d.Write the run at d.Path: with a
// staging directory, the two are exchanged in one step and the old run
// removed.
func (d *Dir) Commit() error {
	if d.Write == d.Path {
		return nil
	}
	if err := dirswap.Exchange(d.Write, d.Path); err != nil {
		return &DirError{d.Path, fmt.Errorf("cannot replace the old run: %w", err)}
	}
	old := d.Write
	d.Write = d.Path
	os.RemoveAll(old)
	return nil
}

// Close releases the directory, removing an uncommitted staging directory
// unless it holds a checkpoint to continue from.
func (d *Dir) Close() {
	if d.Write != d.Path {
		if !hasCheckpoint(d.Write) {
			os.RemoveAll(d.Write)
		}
		d.Write = d.Path
	}
	d.lock.Unlock()
}

// lockToResume checks that dir, a run directory to resume, exists and is
// not in use by another process, and takes its lock: before its checkpoint
// is read, a run another process is training (no checkpoint yet, or a
// backup of it) is refused as such, not as "no checkpoint". It returns
// nil, and no error, when dir has no lock file (no cifarnet process ever
// used it: nothing is created in it yet) or its lock file cannot be
// opened (what is wrong is said later).
func lockToResume(dir string) (*lockfile.Lock, error) {
	if dir == "" {
		return nil, nil
	}
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("resume %s: no such directory", dir)
	case err != nil:
		return nil, fmt.Errorf("resume %s: %w", dir, oserr.Bare(err))
	case !fi.IsDir():
		return nil, fmt.Errorf("resume %s: not a directory", dir)
	}
	name := filepath.Join(dir, LockFile)
	if _, err := os.Stat(name); err != nil {
		return nil, nil
	}
	lock, err := lockfile.TryLock(name)
	if errors.Is(err, lockfile.ErrHeld) {
		return nil, &DirError{filepath.Clean(dir), ErrBusy}
	}
	if err != nil {
		return nil, nil
	}
	return lock, nil
}

// finished tells whether dir holds a finished run (its metrics.json is
// written once the run completed).
func finished(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, train.MetricsJSON))
	return err == nil
}

// hasCheckpoint tells whether dir holds a run's checkpoint.
func hasCheckpoint(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, train.CheckpointFile))
	return err == nil
}

func stagingPrefix(dir string) string { return "." + filepath.Base(dir) + ".staging-" }

// cleanStale removes what a killed process left: temporaries of an atomic
// write inside the directory (".name.tmp*") and staging directories beside
// it, but the one holding a replacing run's checkpoint, to continue from
// (Staging). Only the lock's holder makes them, so none is in use.
func (d *Dir) cleanStale() {
	removeTemps(d.Path)
	parent := filepath.Dir(d.Path)
	if es, err := os.ReadDir(parent); err == nil {
		for _, e := range es {
			p := filepath.Join(parent, e.Name())
			if e.IsDir() && strings.HasPrefix(e.Name(), stagingPrefix(d.Path)) && !(p == Staging(d.Path) && hasCheckpoint(p)) {
				os.RemoveAll(p)
			}
		}
	}
}

// removeTemps removes the temporaries of atomic writes (".name.tmp*") in
// dir.
func removeTemps(dir string) {
	if es, err := os.ReadDir(dir); err == nil {
		for _, e := range es {
			if n := e.Name(); strings.HasPrefix(n, ".") && strings.Contains(n, ".tmp") && !e.IsDir() {
				os.Remove(filepath.Join(dir, n))
			}
		}
	}
}

// contents lists the names in dir other than the lock file.
func contents(dir string) ([]string, error) {
	es, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range es {
		if e.Name() != LockFile {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// isRun tells whether names include a run's own files.
func isRun(names []string) bool {
	for _, n := range names {
		if n == train.MetricsJSON || n == train.CheckpointFile || n == "checkpoint.json" {
			return true
		}
	}
	return false
}

// Writable fails now, not after training (or profiling), if dir is not
// writable.
func Writable(dir string) error {
	f, err := os.CreateTemp(dir, ".probe*")
	if err != nil {
		return fmt.Errorf("not writable: %w", oserr.Bare(err))
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}
