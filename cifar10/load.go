package cifar10

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/cifarnet/cifarnet/dataset"
	"github.com/cifarnet/cifarnet/internal/oserr"
	"github.com/cifarnet/cifarnet/internal/regular"

	"github.com/cifarnet/cifarnet/internal/quote"
)

// File names inside cifar-10-batches-bin.
const (
	TestFile = "test_batch.bin"
	MetaFile = "batches.meta.txt"
	// DirName is the directory the official archive extracts to.
	DirName = "cifar-10-batches-bin"
	// ArchiveName is the official binary archive's file name.
	ArchiveName = "cifar-10-binary.tar.gz"

	// PyDirName and PyArchiveName are the Python version's directory and
	// archive, what Keras's cifar10.load_data downloads and caches.
	PyDirName     = "cifar-10-batches-py"
	PyArchiveName = "cifar-10-python.tar.gz"
)

// pyName is the Python version's name of a batch file: the binary name
// without ".bin".
func pyName(binName string) string { return strings.TrimSuffix(binName, ".bin") }

// TrainFile returns the name of the i-th training batch file, i in 1..5.
func TrainFile(i int) string { return fmt.Sprintf("data_batch_%d.bin", i) }

// ShortError reports data that holds fewer samples than were asked for:
// a batch file that is missing or has too few records.
type ShortError = dataset.ShortError

// want is one file of a load: its name and how many records to take.
type want struct {
	name string
	n    int
}

// plan lists the files a load of nTrain training and nTest test images
// reads, in order: only the batch files that hold the requested records.
func plan(nTrain, nTest int) ([]want, error) {
	if nTrain < 0 || nTrain > TrainBatches*PerBatch {
		return nil, fmt.Errorf("cifar10: %d training samples requested, want 0 to %d", nTrain, TrainBatches*PerBatch)
	}
	if nTest < 0 || nTest > PerBatch {
		return nil, fmt.Errorf("cifar10: %d test samples requested, want 0 to %d", nTest, PerBatch)
	}
	var ws []want
	for i := 1; nTrain > 0; i++ {
		n := min(nTrain, PerBatch)
		ws = append(ws, want{TrainFile(i), n})
		nTrain -= n
	}
	if nTest > 0 {
		ws = append(ws, want{TestFile, nTest})
	}
	return ws, nil
}

// Load reads the first nTrain training images (across data_batch_1.bin,
// data_batch_2.bin, ... in order) and the first nTest test images from src,
// which is a cifar-10-batches-bin directory or a cifar-10-binary.tar.gz
// archive. Only the files holding the requested records are read, and of
// them only the requested records; an archive is streamed, never extracted.
func Load(src string, nTrain, nTest int) (*Data, error) {
	ws, err := plan(nTrain, nTest)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(src)
	if err != nil {
		return nil, fmt.Errorf("cifar10: data %s: %w", src, oserr.Bare(err))
	}
	var sets map[string]*Set
	if fi.IsDir() {
		sets, err = loadDir(src, ws)
	} else {
		sets, err = loadArchive(src, ws)
		err = dataset.NotArchive(err, "cifar10", src, Places(Downloader{}).Want, batchFile(filepath.Base(src)))
	}
	if err != nil {
		return nil, err
	}
	d := &Data{Info: Info(ReadClassNames(src)), Train: dataset.NewSet(Shape, nTrain), Test: dataset.NewSet(Shape, nTest), Source: src}
	for _, w := range ws {
		dst := d.Train
		if w.name == TestFile {
			dst = d.Test
		}
		dst.Append(sets[w.name])
	}
	return d, nil
}

func loadDir(dir string, ws []want) (map[string]*Set, error) {
	sets := make(map[string]*Set, len(ws))
	absent := func(w want) bool {
		_, err := os.Stat(filepath.Join(dir, w.name))
		return errors.Is(err, os.ErrNotExist) && !fileExists(filepath.Join(dir, pyName(w.name)))
	}
	for i, w := range ws {
		name := filepath.Join(dir, w.name)
		if _, err := os.Stat(name); errors.Is(err, os.ErrNotExist) {
			if py := filepath.Join(dir, pyName(w.name)); fileExists(py) {
				s, err := readPyFile(py, w.n)
				if err != nil {
					return nil, err
				}
				sets[w.name] = s
				continue
			}
			e := short(name, w, 0, fmt.Sprintf("cifar10: %s: missing: %s is not a complete %s or %s directory (need %s for %d records)", name, dir, DirName, PyDirName, w.name, w.n))
			e.Missing = missingFiles(ws[i:], absent)
			return nil, e
		}
		f, err := regular.Open(name)
		if err != nil {
			return nil, fmt.Errorf("cifar10: %s: %w", name, oserr.Bare(err))
		}
		s, err := readFile(f, name, w)
		f.Close()
		if err != nil {
			return nil, err
		}
		sets[w.name] = s
	}
	return sets, nil
}

// batchFile reports whether name is one of the files of a
// cifar-10-batches-bin or cifar-10-batches-py directory.
func batchFile(name string) bool {
	for i := 1; i <= TrainBatches; i++ {
		if name == TrainFile(i) || name == pyName(TrainFile(i)) {
			return true
		}
	}
	return name == TestFile || name == pyName(TestFile) || name == MetaFile || name == "batches.meta"
}

func fileExists(name string) bool {
	fi, err := os.Stat(name)
	return err == nil && fi.Mode().IsRegular()
}

// readPyFile reads the first n records of a Python-version batch file.
func readPyFile(name string, n int) (*Set, error) {
	b, err := regular.ReadFile(name, dataset.MaxPickle)
	var tl *regular.TooLargeError
	if errors.As(err, &tl) {
		return nil, fmt.Errorf("cifar10: %s: %w: %d bytes", name, dataset.ErrPickle, tl.Size)
	}
	if err != nil {
		return nil, fmt.Errorf("cifar10: %s: %w", name, oserr.Bare(err))
	}
	v, err := dataset.Unpickle(b)
	if err != nil {
		return nil, fmt.Errorf("cifar10: %s: %w", name, err)
	}
	return decodeBatch(v, n, name)
}

// readFile checks the size of an opened batch file and reads its first w.n records.
func readFile(f *os.File, name string, w want) (*Set, error) {
	n := w.n
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("cifar10: %s: %w", name, oserr.Bare(err))
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("cifar10: %s: not a regular file", name)
	}
	if err := checkSize(name, fi.Size(), w); err != nil {
		return nil, err
	}
	s := dataset.NewSet(Shape, n)
	return s, readRecords(s, f, n, name)
}

// checkSize verifies that a batch of size bytes is whole records and holds at least w.n.
func checkSize(name string, size int64, w want) error {
	if size%RecordSize != 0 {
		return fmt.Errorf("cifar10: %s: size %d bytes is not a multiple of the %d-byte record (truncated or not a CIFAR-10 batch)", name, size, RecordSize)
	}
	if have := size / RecordSize; have > PerBatch {
		// Two batches joined, or not a CIFAR-10 batch: its records past
		// the 10,000th would be silently ignored (as CIFAR-100's are refused).
		return fmt.Errorf("cifar10: %s: %d records, more than the %d of an official batch file", name, have, PerBatch)
	} else if int(have) < w.n {
		return short(name, w, int(have), fmt.Sprintf("cifar10: %s: has %d records, want at least %d", name, have, w.n))
	}
	return nil
}

// short builds the ShortError of batch w, which has only have records.
func short(name string, w want, have int, msg string) *ShortError {
	e := &ShortError{File: name, Test: w.name == TestFile, Have: have, Want: w.n, Available: have, Msg: msg}
	if !e.Test {
		var i int
		fmt.Sscanf(w.name, "data_batch_%d.bin", &i)
		e.Available += (i - 1) * PerBatch
	}
	return e
}

func loadArchive(name string, ws []want) (map[string]*Set, error) {
	f, err := regular.Open(name)
	if err != nil {
		return nil, fmt.Errorf("cifar10: %s: %w", name, oserr.Bare(err))
	}
	defer f.Close()
	return readArchive(f, name, ws)
}

// readArchive streams a gzipped tar and reads the wanted batch files from
// members named cifar-10-batches-bin/<file> (or <file> at the top level).
// It stops looking for members once every wanted file has been read, but
// reads the gzip stream to its end to verify its CRC-32 and length.
func readArchive(r io.Reader, name string, ws []want) (map[string]*Set, error) {
	need := make(map[string]int, len(ws))
	for _, w := range ws {
		need[w.name] = w.n
	}
	sets := make(map[string]*Set, len(ws))
	err := dataset.WalkTarGz(r, "cifar10: "+name, maxMember, "CIFAR-10", func(path string, body io.Reader, size int64) (bool, error) {
		base, py, ok := memberBase(path)
		if py {
			base += ".bin"
		}
		n, wanted := need[base]
		if !ok || !wanted || sets[base] != nil {
			return false, nil
		}
		member := name + ":" + quote.Line(path, quote.Max)
		var s *Set
		if py {
			if size > dataset.MaxPickle {
				return false, fmt.Errorf("cifar10: %s: %w: %d bytes", member, dataset.ErrPickle, size)
			}
			b, err := io.ReadAll(body)
			if err != nil || int64(len(b)) != size {
				return false, fmt.Errorf("cifar10: %s: corrupt archive: %v", member, err)
			}
			v, err := dataset.Unpickle(b)
			if err != nil {
				return false, fmt.Errorf("cifar10: %s: %w", member, err)
			}
			if s, err = decodeBatch(v, n, member); err != nil {
				return false, err
			}
		} else {
			if err := checkSize(member, size, want{base, n}); err != nil {
				return false, err
			}
			s = dataset.NewSet(Shape, n)
			if err := readRecords(s, body, n, member); err != nil {
				return false, fmt.Errorf("%w (corrupt archive?)", err)
			}
		}
		sets[base] = s
		return len(sets) == len(ws), nil
	})
	if err != nil {
		return nil, err
	}
	for i, w := range ws {
		if sets[w.name] == nil {
			e := short(name, w, 0, fmt.Sprintf("cifar10: %s: archive has no member %s/%s or %s/%s (need %d records)", name, DirName, w.name, PyDirName, pyName(w.name), w.n))
			e.Missing = missingFiles(ws[i:], func(w want) bool { return sets[w.name] == nil })
			return nil, e
		}
	}
	return sets, nil
}

// missingFiles names the files of ws, the first absent, that are absent
// and of the first's kind (training or test).
func missingFiles(ws []want, absent func(want) bool) []string {
	var names []string
	for _, w := range ws {
		if (w.name == TestFile) == (ws[0].name == TestFile) && absent(w) {
			names = append(names, w.name)
		}
	}
	return names
}

// maxMember bounds any archive member: the official batches are 30 MB.
const maxMember = 256 << 20

// memberBase returns the batch file name of an archive member that lies in
// cifar-10-batches-bin/ (py false) or cifar-10-batches-py/ (py true), or
// at the top level; anything else (absolute paths, "..", other folders) is
// not a batch member, and is neither read nor written anywhere.
func memberBase(member string) (base string, py, ok bool) {
	clean := path.Clean(member)
	if path.IsAbs(clean) || strings.HasPrefix(clean, "..") {
		return "", false, false
	}
	dir, base := path.Split(clean)
	switch dir {
	case "", DirName + "/":
		return base, false, true
	case PyDirName + "/":
		return base, true, true
	}
	return "", false, false
}
