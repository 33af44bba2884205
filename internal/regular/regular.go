// Package regular opens the files a user names (data files, images, model
// and weight files, run files) for reading, refusing anything that is not a
// regular file without blocking on it: a FIFO is opened non-blocking and
// refused, as are devices, sockets and directories. A reader that used
// os.Open would wait forever on a FIFO no one writes to.
package regular

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// ErrNotRegular is wrapped by the error for a path that is not a regular file.
var ErrNotRegular = errors.New("not a regular file")

// TooLargeError reports a file larger than its reader accepts.
type TooLargeError struct {
	Size, Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%d bytes, more than the %d this file can hold", e.Size, e.Limit)
}

// Open opens name for reading if it is a regular file (symbolic links are
// followed). Errors are *os.PathError, so that oserr.Bare leaves their
// cause, e.g. "not a regular file (a named pipe)".
func Open(name string) (*os.File, error) {
	f, err := openNonblock(name)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, &os.PathError{Op: "open", Path: name, Err: fmt.Errorf("%w (%s)", ErrNotRegular, Kind(fi.Mode()))}
	}
	return f, nil
}

// OpenLimit is Open that also refuses a file of more than limit bytes, and
// returns its size.
func OpenLimit(name string, limit int64) (*os.File, int64, error) {
	f, err := Open(name)
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if fi.Size() > limit {
		f.Close()
		return nil, 0, &os.PathError{Op: "open", Path: name, Err: &TooLargeError{fi.Size(), limit}}
	}
	return f, fi.Size(), nil
}

// ReadFile reads a whole regular file of at most limit bytes. The limit
// holds even if the file grows while it is read.
func ReadFile(name string, limit int64) ([]byte, error) {
	f, size, err := OpenLimit(name, limit)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, 0, size)
	b, err = readAll(io.LimitReader(f, limit+1), b)
	if err != nil {
		return nil, &os.PathError{Op: "read", Path: name, Err: err}
	}
	if int64(len(b)) > limit {
		return nil, &os.PathError{Op: "read", Path: name, Err: &TooLargeError{int64(len(b)), limit}}
	}
	return b, nil
}

func readAll(r io.Reader, b []byte) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// Kind names what a file of mode m is when it is not a regular file
// ("a named pipe", "a character device", ...).
func Kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "a special file"
}
