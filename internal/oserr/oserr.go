// Package oserr shortens errors from the os package for one-line messages
// that already name the file.
package oserr

import (
	"errors"
	"os"
)

// Bare drops an *os.PathError's operation and path, leaving its cause
// ("no such file or directory"), so a message that names the file does not
// name it twice. Other errors are returned as they are.
func Bare(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
