// Package atomicfile writes files so that a reader sees either the old
// content or the complete new one, never a partial file: the data goes to a
// temporary file in the same directory, is synced, and is renamed into place.
package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/cifarnet/cifarnet/internal/finitejson"
	"github.com/cifarnet/cifarnet/internal/regular"
)

// WriteFile writes data to name atomically with permissions perm.
func WriteFile(name string, data []byte, perm os.FileMode) error {
	return Write(name, perm, func(f *os.File) error {
		_, err := f.Write(data)
		return err
	})
}

// WriteJSON writes v to name atomically as indented JSON ending in a
// newline, readable by everyone (the run files cifarnet writes). A NaN or
// infinite number is written as null: one undefined figure never makes a
// file unwritable.
func WriteJSON(name string, v any) error {
	js, err := finitejson.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return WriteFile(name, append(js, '\n'), 0o644)
}

// Write creates name atomically, letting fill write its content. An
// existing name that is neither a regular file nor a symbolic link (a
// device such as /dev/full, a named pipe, a directory) is refused: the
// rename would replace it.
func Write(name string, perm os.FileMode, fill func(*os.File) error) (err error) {
	if fi, err := os.Lstat(name); err == nil && !fi.Mode().IsRegular() && fi.Mode()&os.ModeSymlink == 0 {
		return fmt.Errorf("write %s: %w (%s): refusing to replace it", name, regular.ErrNotRegular, regular.Kind(fi.Mode()))
	}
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = fill(f); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err = f.Chmod(perm); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err = os.Rename(f.Name(), name); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}
