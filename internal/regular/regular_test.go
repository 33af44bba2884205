package regular

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRefusesSpecialFilesWithoutBlocking: a FIFO nobody writes to, a
// directory and a character device are refused at once; os.Open would wait
// forever on the FIFO.
func TestRefusesSpecialFilesWithoutBlocking(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	for name, want := range map[string]string{fifo: "named pipe", dir: "directory", "/dev/null": "character device"} {
		done := make(chan error, 1)
		go func() {
			_, err := ReadFile(name, 1<<20)
			done <- err
		}()
		select {
		case err := <-done:
			if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %v, want not a regular file (%s)", name, err, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: ReadFile blocked", name)
		}
	}
}

func TestReadFileLimit(t *testing.T) {
	name := filepath.Join(t.TempDir(), "f")
	os.WriteFile(name, []byte("0123456789"), 0o644)
	if b, err := ReadFile(name, 10); err != nil || string(b) != "0123456789" {
		t.Fatalf("ReadFile = %q, %v", b, err)
	}
	var tl *TooLargeError
	if _, err := ReadFile(name, 9); !errors.As(err, &tl) || tl.Size != 10 {
		t.Fatalf("ReadFile over the limit: %v", err)
	}
	link := filepath.Join(t.TempDir(), "link")
	os.Symlink(name, link)
	if _, err := ReadFile(link, 10); err != nil {
		t.Fatalf("a link to a regular file: %v", err)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}
