package lockfile

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestExclusiveAndReleased(t *testing.T) {
	name := filepath.Join(t.TempDir(), "lock")
	a, err := TryLock(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := TryLock(name); !errors.Is(err, ErrHeld) {
		t.Fatalf("second TryLock: %v, want ErrHeld", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := Wait(ctx, name); err == nil {
		t.Fatal("Wait returned while the lock was held")
	}
	a.Unlock()
	b, err := TryLock(name)
	if err != nil {
		t.Fatalf("after Unlock: %v", err)
	}
	b.Unlock()
}

// TestReleasedWhenTheHolderDies: a lock held by a killed process is free.
func TestReleasedWhenTheHolderDies(t *testing.T) {
	if os.Getenv("LOCKFILE_HOLD") != "" {
		if _, err := TryLock(os.Getenv("LOCKFILE_HOLD")); err != nil {
			os.Exit(3)
		}
		os.Stdout.Write([]byte("held\n"))
		time.Sleep(time.Hour)
	}
	name := filepath.Join(t.TempDir(), "lock")
	cmd := exec.Command(os.Args[0], "-test.run=TestReleasedWhenTheHolderDies")
	cmd.Env = append(os.Environ(), "LOCKFILE_HOLD="+name)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	buf := make([]byte, 5)
	if _, err := out.Read(buf); err != nil || string(buf) != "held\n" {
		t.Fatalf("child: %q %v", buf, err)
	}
	if _, err := TryLock(name); !errors.Is(err, ErrHeld) {
		t.Fatalf("lock of a live process: %v", err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	l, err := TryLock(name)
	if err != nil {
		t.Fatalf("lock of a killed process: %v", err)
	}
	l.Unlock()
}

// TestShared: shared locks are held together and keep out an exclusive
// one, which keeps them out in turn; Block waits for the holder.
func TestShared(t *testing.T) {
	name := filepath.Join(t.TempDir(), "lock")
	a, err := TryShared(name)
	if err != nil {
		t.Fatal(err)
	}
	b, err := TryShared(name)
	if err != nil {
		t.Fatalf("a second shared lock: %v", err)
	}
	if _, err := TryLock(name); !errors.Is(err, ErrHeld) {
		t.Fatalf("exclusive while shared: %v, want ErrHeld", err)
	}
	a.Unlock()
	b.Unlock()
	x, err := TryLock(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := TryShared(name); !errors.Is(err, ErrHeld) {
		t.Fatalf("shared while exclusive: %v, want ErrHeld", err)
	}
	got := make(chan error)
	go func() {
		l, err := Block(name)
		l.Unlock()
		got <- err
	}()
	x.Unlock()
	if err := <-got; err != nil {
		t.Fatalf("Block: %v", err)
	}
}

// TestNotThroughALink: a lock file that is a symbolic link (dangling or
// not) or a directory is refused with a one-line error naming it, and the
// link's target is not created.
func TestNotThroughALink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "elsewhere")
	for _, make := range []func(name string) error{
		func(name string) error { return os.Symlink(target, name) },
		func(name string) error { return os.Mkdir(name, 0o755) },
	} {
		name := filepath.Join(t.TempDir(), "lock")
		if err := make(name); err != nil {
			t.Fatal(err)
		}
		l, err := TryLock(name)
		if err == nil {
			l.Unlock()
			t.Fatalf("TryLock(%s) succeeded", name)
		}
		if _, statErr := os.Stat(target); statErr == nil {
			t.Fatal("the link's target was created")
		}
		if !strings.Contains(err.Error(), "lock file lock is a ") || !strings.Contains(err.Error(), ", not a regular file") {
			t.Errorf("error %q does not name the lock file", err)
		}
	}
}
