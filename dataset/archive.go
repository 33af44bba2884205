package dataset

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"strings"

	"github.com/cifarnet/cifarnet/internal/quote"
)

// CheckMember refuses what no data set's archive holds and a hostile one
// might: absolute paths, "..", links, devices and other special files, and
// members of more than max bytes. (Nothing is ever extracted; this is
// defence in depth and a clear message.)
func CheckMember(hdr *tar.Header, max int64, title string) error {
	clean := path.Clean(hdr.Name)
	if path.IsAbs(hdr.Name) || clean == ".." || strings.HasPrefix(clean, "../") {
		return fmt.Errorf("refusing archive member %s: path outside the archive", quote.Short(hdr.Name))
	}
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeDir, tar.TypeXGlobalHeader, tar.TypeXHeader:
	default:
		return fmt.Errorf("refusing archive member %s: not a regular file or directory (tar type %q)", quote.Short(hdr.Name), hdr.Typeflag)
	}
	if hdr.Size > max {
		return fmt.Errorf("refusing archive member %s: %d bytes, more than any %s file", quote.Short(hdr.Name), hdr.Size, title)
	}
	return nil
}

// ErrNotGzip is WalkTarGz's error for a file that is not gzipped at all.
var ErrNotGzip = errors.New("not a gzip archive")

// NotArchive rewrites err, a loader's error for src, when src is a file
// that is not gzipped at all (ErrNotGzip), for a data set read from a
// directory or its .tar.gz, as want says: most often one of the
// directory's own files (inDir, a batch file) was given for the
// directory, which is then named.
func NotArchive(err error, prefix, src, want string, inDir bool) error {
	switch {
	case !errors.Is(err, ErrNotGzip):
		return err
	case inDir:
		return fmt.Errorf("%s: %s: one of the data set's files: --data takes the directory that holds them (here %s) or their .tar.gz", prefix, src, filepath.Dir(src))
	}
	return fmt.Errorf("%s: %s: not a directory nor a .tar.gz archive: --data takes %s", prefix, src, want)
}

// WalkTarGz streams the gzipped tar r and calls
// visit with the path and contents of each regular file in it, every
// member first passing CheckMember, until visit says it is done. The gzip
// stream is then read to its end, so that its CRC-32 and length are
// verified before anything read from it is used. Its own errors start
// with where (e.g. "cifar100: /path/x.tar.gz"); visit's are returned as
// they are.
func WalkTarGz(r io.Reader, where string, maxMember int64, title string, visit func(member string, body io.Reader, size int64) (done bool, err error)) error {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return fmt.Errorf("%s: %w: %v", where, ErrNotGzip, err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: corrupt archive: %v", where, err)
		}
		if err := CheckMember(hdr, maxMember, title); err != nil {
			return fmt.Errorf("%s: %v", where, err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		done, err := visit(path.Clean(hdr.Name), io.LimitReader(tr, hdr.Size), hdr.Size)
		if err != nil {
			return err
		}
		if done {
			break
		}
	}
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return fmt.Errorf("%s: corrupt archive (%v): the data read from it cannot be trusted", where, err)
	}
	return nil
}
