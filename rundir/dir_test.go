package rundir

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/cifarnet/cifarnet/train"
)

func write(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func read(name string) string {
	b, err := os.ReadFile(name)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return string(b)
}

// TestOneOwner: a run directory belongs to one Open at a time (the lock is
// per open file, so this holds within a process as between processes).
func TestOneOwner(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	a, err := Open(dir, false, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, overwrite := range []bool{false, true} {
		if _, err := Open(dir, overwrite, false); !errors.Is(err, ErrBusy) {
			t.Fatalf("second Open (overwrite %v): %v, want ErrBusy", overwrite, err)
		}
	}
	a.Close()
	b, err := Open(dir, false, false)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	b.Close()
}

// TestOverwriteIsWhole: an overwrite writes beside the old run; until
// Commit the directory holds the old run only, after it the new run only,
// and an overwrite that fails leaves the old run as it was.
func TestOverwriteIsWhole(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	os.Mkdir(dir, 0o755)
	write(t, filepath.Join(dir, train.MetricsJSON), "old metrics")
	write(t, filepath.Join(dir, "model.safetensors"), "old model")
	if _, err := Open(dir, false, false); !errors.Is(err, ErrExists) {
		t.Fatalf("Open of a run without overwrite: %v", err)
	}
	// A failed overwrite: files written, never committed.
	d, err := Open(dir, true, false)
	if err != nil {
		t.Fatal(err)
	}
	if d.Write == d.Path {
		t.Fatal("an overwrite writes into the old run's directory")
	}
	write(t, filepath.Join(d.Write, train.MetricsJSON), "new metrics")
	if got := read(filepath.Join(dir, train.MetricsJSON)); got != "old metrics" {
		t.Fatalf("during the overwrite the run holds %q", got)
	}
	d.Close()
	if got := read(filepath.Join(dir, train.MetricsJSON)); got != "old metrics" || read(filepath.Join(dir, "model.safetensors")) != "old model" {
		t.Fatalf("after a failed overwrite the run holds %q", got)
	}
	// A finished overwrite: the new run whole, nothing of the old.
	d, err = Open(dir, true, false)
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(d.Write, train.MetricsJSON), "new metrics")
	if err := d.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := read(filepath.Join(dir, train.MetricsJSON)); got != "new metrics" {
		t.Fatalf("after the overwrite the run holds %q", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "model.safetensors")); !os.IsNotExist(err) {
		t.Fatal("the old run's model survived the overwrite beside the new metrics")
	}
	// The lock still guards the path after the swap.
	if _, err := Open(dir, true, false); !errors.Is(err, ErrBusy) {
		t.Fatalf("Open after the swap, lock held: %v", err)
	}
	d.Close()
	if es, _ := os.ReadDir(filepath.Dir(dir)); len(es) != 1 {
		t.Fatalf("%d entries beside the run, want only the run (no staging left)", len(es))
	}
}

// TestOverwriteThroughALink: --out naming a symbolic link to a run
// replaces the run it points to and keeps the link (the swap replaced the
// link with a directory, leaving the old run where it was).
func TestOverwriteThroughALink(t *testing.T) {
	base := t.TempDir()
	target, link := filepath.Join(base, "run"), filepath.Join(base, "link")
	os.Mkdir(target, 0o755)
	write(t, filepath.Join(target, train.MetricsJSON), "old metrics")
	if err := os.Symlink(target, link); err != nil {
		t.Skip(err)
	}
	d, err := Open(link, true, false)
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(d.Write, train.MetricsJSON), "new metrics")
	if err := d.Commit(); err != nil {
		t.Fatal(err)
	}
	d.Close()
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced (%v)", err)
	}
	if got := read(filepath.Join(target, train.MetricsJSON)); got != "new metrics" {
		t.Errorf("the run the link points to holds %q", got)
	}
}

// TestUsersFilesNotOverwritten: a directory of the user's files that is
// not a run is refused without overwrite, and left as it is.
func TestUsersFilesNotOverwritten(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "report.html"), "mine")
	write(t, filepath.Join(dir, "model.safetensors"), "mine too")
	if _, err := Open(dir, false, false); !errors.Is(err, ErrNotRun) {
		t.Fatalf("Open of a directory of other files: %v, want ErrNotRun", err)
	}
	if read(filepath.Join(dir, "report.html")) != "mine" || read(filepath.Join(dir, "model.safetensors")) != "mine too" {
		t.Fatal("the user's files changed")
	}
}

// TestStaleTemporariesCleaned: what a killed save left (a hidden
// temporary inside, a staging directory beside) is removed on the next
// start.
func TestStaleTemporariesCleaned(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "run")
	os.Mkdir(dir, 0o755)
	write(t, filepath.Join(dir, train.CheckpointFile), "{}")
	tmp := filepath.Join(dir, ".checkpoint.safetensors.tmp123456")
	write(t, tmp, "16 MB of a killed save")
	stage := filepath.Join(root, ".run.staging-42")
	os.Mkdir(stage, 0o755)
	d, err := Open(dir, false, true)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Error("the stale temporary is still there")
	}
	if _, err := os.Stat(stage); !os.IsNotExist(err) {
		t.Error("the stale staging directory is still there")
	}
	if read(filepath.Join(dir, train.CheckpointFile)) != "{}" {
		t.Error("the checkpoint was removed")
	}
}

// TestStagedCheckpointKept: a replacing run's staging directory is beside
// the run (also for "dir/"), kept by Close and by the next Open while it
// holds a checkpoint, continued by OpenStaged, and removed otherwise.
func TestStagedCheckpointKept(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	os.MkdirAll(dir, 0o755)
	write(t, filepath.Join(dir, train.MetricsJSON), "old")
	d, err := Open(dir+"/", true, false)
	if err != nil {
		t.Fatal(err)
	}
	if d.Write != Staging(dir) || filepath.Dir(d.Write) != filepath.Dir(dir) {
		t.Fatalf("staging %s, want %s beside the run", d.Write, Staging(dir))
	}
	write(t, filepath.Join(d.Write, train.CheckpointFile), "backup")
	write(t, filepath.Join(d.Write, ".history.json.tmp123"), "half")
	d.Close() // a run interrupted (or a failed one): the backup stays
	if read(filepath.Join(Staging(dir), train.CheckpointFile)) != "backup" || read(filepath.Join(dir, train.MetricsJSON)) != "old" {
		t.Fatal("Close lost the backup or touched the old run")
	}
	// Any later use of the directory keeps it.
	d, err = Open(dir, false, true)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	if read(filepath.Join(Staging(dir), train.CheckpointFile)) != "backup" {
		t.Fatal("Open removed the staged backup")
	}
	// Continued: written on there (its temporaries gone), then swapped in.
	d, err = OpenStaged(dir)
	if err != nil {
		t.Fatal(err)
	}
	if d.Write != Staging(dir) || read(filepath.Join(d.Write, train.CheckpointFile)) != "backup" {
		t.Fatalf("OpenStaged writes into %s", d.Write)
	}
	if _, err := os.Stat(filepath.Join(d.Write, ".history.json.tmp123")); !os.IsNotExist(err) {
		t.Error("a killed write's temporary is kept in the staging directory")
	}
	os.Remove(filepath.Join(d.Write, train.CheckpointFile))
	write(t, filepath.Join(d.Write, train.MetricsJSON), "new")
	if err := d.Commit(); err != nil {
		t.Fatal(err)
	}
	d.Close()
	if read(filepath.Join(dir, train.MetricsJSON)) != "new" {
		t.Fatal("the continued run was not swapped in")
	}
	if _, err := os.Stat(Staging(dir)); !os.IsNotExist(err) {
		t.Fatal("the staging directory is left after the commit")
	}
	// A staging directory without a checkpoint is a killed save's: removed.
	os.Mkdir(Staging(dir), 0o755)
	d, err = Open(dir, false, true)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	if _, err := os.Stat(Staging(dir)); !os.IsNotExist(err) {
		t.Fatal("an empty staging directory was kept")
	}
	// A new replacing run does not continue an old staged checkpoint.
	os.Mkdir(Staging(dir), 0o755)
	write(t, filepath.Join(Staging(dir), train.CheckpointFile), "other")
	d, err = Open(dir, true, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(d.Write, train.CheckpointFile)); !os.IsNotExist(err) {
		t.Error("a new replacing run starts in the old staged checkpoint's directory")
	}
	d.Close()
}
