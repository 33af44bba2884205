package cifar100

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cifarnet/cifarnet/dataset"
	"github.com/cifarnet/cifarnet/internal/oserr"
	"github.com/cifarnet/cifarnet/internal/quote"
	"github.com/cifarnet/cifarnet/internal/regular"
)

// Directory and file names of the two versions.
const (
	BinDirName     = "cifar-100-binary"
	BinArchiveName = "cifar-100-binary.tar.gz"
	PyDirName      = "cifar-100-python"
	PyArchiveName  = "cifar-100-python.tar.gz"
)

// maxMember bounds any archive member: the largest, the Python train
// pickle, is 155 MB.
const maxMember = 256 << 20

// loader gathers what the files of one load hold.
type loader struct {
	info          dataset.Info
	nTrain, nTest int
	train, test   *dataset.Set
	names         []string // class names read from the data, if any
}

// Load reads the first nTrain training and nTest test images of CIFAR-100
// with the labels of info's label mode (see Info) from src: a
// cifar-100-binary or cifar-100-python directory, or its .tar.gz archive,
// streamed and never extracted.
func Load(info dataset.Info, src string, nTrain, nTest int) (*dataset.Data, error) {
	if nTrain < 0 || nTrain > TrainSize || nTest < 0 || nTest > TestSize {
		return nil, fmt.Errorf("cifar100: %d training and %d test images requested, want 0 to %d and 0 to %d", nTrain, nTest, TrainSize, TestSize)
	}
	fi, err := os.Stat(src)
	if err != nil {
		return nil, fmt.Errorf("cifar100: data %s: %w", src, oserr.Bare(err))
	}
	l := &loader{info: info, nTrain: nTrain, nTest: nTest}
	if fi.IsDir() {
		err = l.dir(src)
	} else {
		inDir := slices.Contains([]string{"train.bin", "test.bin", "train", "test", "meta", "fine_label_names.txt", "coarse_label_names.txt"}, filepath.Base(src))
		err = dataset.NotArchive(l.archive(src), "cifar100", src, Places().Want, inDir)
	}
	if err != nil {
		return nil, err
	}
	for _, p := range []struct {
		s    **dataset.Set
		n    int
		test bool
	}{{&l.train, nTrain, false}, {&l.test, nTest, true}} {
		if *p.s == nil && p.n > 0 {
			kind, file := "training", "train"
			if p.test {
				kind, file = "test", "test"
			}
			return nil, &dataset.ShortError{File: src, Test: p.test, Want: p.n,
				Msg: fmt.Sprintf("cifar100: %s: no %s images (want %s.bin in %s or %s in %s)", src, kind, file, BinDirName, file, PyDirName)}
		}
		if *p.s == nil {
			*p.s = dataset.NewSet(Shape, 0)
		}
	}
	d := &dataset.Data{Info: info, Train: l.train, Test: l.test, Source: src}
	if len(l.names) == info.NumClasses() {
		d.Classes = l.names
	}
	return d, nil
}

// dir reads the binary files of dir if it has them, else the pickles.
func (l *loader) dir(dir string) error {
	files := []string{"train", "test", "meta"}
	if _, err := os.Stat(filepath.Join(dir, "test.bin")); err == nil {
		files = []string{"train.bin", "test.bin", l.info.LabelMode + "_label_names.txt"}
	} else if !exists(filepath.Join(dir, "test")) && !exists(filepath.Join(dir, "train")) && !exists(filepath.Join(dir, "train.bin")) {
		// Neither layout: say what is wanted, and what the directory
		// looks like when it is another set.
		what := ""
		if _, err := os.Stat(filepath.Join(dir, "data_batch_1.bin")); err == nil {
			what = " (it looks like CIFAR-10's cifar-10-batches-bin: data set cifar10)"
		} else if _, err := os.Stat(filepath.Join(dir, "data_batch_1")); err == nil {
			what = " (it looks like CIFAR-10's cifar-10-batches-py: data set cifar10)"
		}
		return fmt.Errorf("cifar100: %s is not a %s directory (train.bin, test.bin) nor a %s one (train, test, meta)%s", dir, BinDirName, PyDirName, what)
	}
	for _, base := range files {
		name := filepath.Join(dir, base)
		if base == "train" || base == "train.bin" {
			if l.nTrain == 0 {
				continue
			}
		}
		f, err := regular.Open(name)
		if errors.Is(err, os.ErrNotExist) && (base == "meta" || strings.HasSuffix(base, ".txt")) {
			continue // the class names are known without it
		}
		if err != nil {
			return fmt.Errorf("cifar100: %s: %w", name, oserr.Bare(err))
		}
		fi, err := f.Stat()
		if err == nil {
			err = l.file(base, f, fi.Size(), name)
		}
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// exists tells whether name exists.
func exists(name string) bool {
	_, err := os.Stat(name)
	return err == nil
}

// archive streams a .tar.gz, reading the members that lie in
// cifar-100-binary/ or cifar-100-python/ (or at the top level).
func (l *loader) archive(name string) error {
	f, err := regular.Open(name)
	if err != nil {
		return fmt.Errorf("cifar100: %s: %w", name, oserr.Bare(err))
	}
	defer f.Close()
	return dataset.WalkTarGz(f, "cifar100: "+name, maxMember, "CIFAR-100", func(member string, body io.Reader, size int64) (bool, error) {
		dir, base := path.Split(member)
		if dir != "" && dir != BinDirName+"/" && dir != PyDirName+"/" {
			return false, nil
		}
		return false, l.file(base, body, size, name+":"+member)
	})
}

// file reads one file of either version, named by its base name; others
// are ignored.
func (l *loader) file(base string, r io.Reader, size int64, where string) error {
	var err error
	switch base {
	case "train.bin", "test.bin", "train", "test":
		test := strings.HasPrefix(base, "test")
		n, max, dst := l.nTrain, TrainSize, &l.train
		if test {
			n, max, dst = l.nTest, TestSize, &l.test
		}
		if n == 0 || *dst != nil {
			return nil
		}
		if strings.HasSuffix(base, ".bin") {
			*dst, err = readBinary(r, size, where, l.info.LabelMode, n, max, test)
		} else {
			*dst, err = readPickle(r, size, where, l.info.LabelMode, n, max, test)
		}
	case "fine_label_names.txt", "coarse_label_names.txt":
		if strings.HasPrefix(base, l.info.LabelMode+"_") {
			l.names, err = readNames(r, size, where, l.info.NumClasses())
		}
	case "meta":
		l.names, err = readMeta(r, size, where, l.info.LabelMode, l.info.NumClasses())
	}
	return err
}

// short is the error of a file holding fewer images than asked for.
func short(where string, have, want int, test bool) error {
	kind := "training"
	if test {
		kind = "test"
	}
	return &dataset.ShortError{File: where, Test: test, Have: have, Want: want, Available: have,
		Msg: fmt.Sprintf("cifar100: %s: has %d %s images, want at least %d", where, have, kind, want)}
}

// readBinary reads the first n records of a binary file of size bytes,
// keeping the label of mode.
func readBinary(r io.Reader, size int64, where, mode string, n, max int, test bool) (*dataset.Set, error) {
	if size%RecordSize != 0 {
		return nil, fmt.Errorf("cifar100: %s: size %d bytes is not a multiple of the %d-byte record (truncated or not a CIFAR-100 binary file)", where, size, RecordSize)
	}
	if have := size / RecordSize; have > int64(max) {
		return nil, fmt.Errorf("cifar100: %s: %d records, more than the %d of the official file", where, have, max)
	} else if int(have) < n {
		return nil, short(where, int(have), n, test)
	}
	s := dataset.NewSet(Shape, n)
	rec := make([]byte, RecordSize)
	for i := range n {
		if _, err := io.ReadFull(r, rec); err != nil {
			return nil, fmt.Errorf("cifar100: %s: record %d: truncated (%v)", where, i, err)
		}
		label, err := pick(rec[0], rec[1], mode)
		if err != nil {
			return nil, fmt.Errorf("cifar100: %s: record %d: %v", where, i, err)
		}
		s.AppendPlanar(label, rec[2:])
	}
	return s, nil
}

// pick checks a record's coarse and fine labels and returns mode's.
func pick(coarse, fine byte, mode string) (byte, error) {
	if coarse >= 20 || fine >= 100 {
		return 0, fmt.Errorf("labels coarse %d, fine %d out of range [0,20), [0,100)", coarse, fine)
	}
	if mode == Coarse {
		return coarse, nil
	}
	return fine, nil
}

// readAll reads a whole member of at most dataset.MaxPickle bytes.
func readAll(r io.Reader, size int64, where string) ([]byte, error) {
	if size > dataset.MaxPickle {
		return nil, fmt.Errorf("cifar100: %s: %d bytes, more than any CIFAR-100 file", where, size)
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("cifar100: %s: truncated (%v)", where, err)
	}
	return b, nil
}

// readDict reads a pickle of size bytes whose top level is a dict.
func readDict(r io.Reader, size int64, where string) (*dataset.PyDict, error) {
	b, err := readAll(r, size, where)
	if err != nil {
		return nil, err
	}
	v, err := dataset.Unpickle(b)
	if err != nil {
		return nil, fmt.Errorf("cifar100: %s: %w", where, err)
	}
	d, ok := v.(*dataset.PyDict)
	if !ok {
		return nil, fmt.Errorf("cifar100: %s: %w: top level is %T, want a dict", where, dataset.ErrPickle, v)
	}
	return d, nil
}

// readPickle reads the first n images of a Python-version train or test
// pickle: b'data' a uint8 (rows, 3072) array, b'fine_labels' and
// b'coarse_labels' lists of rows ints.
func readPickle(r io.Reader, size int64, where, mode string, n, max int, test bool) (*dataset.Set, error) {
	d, err := readDict(r, size, where)
	if err != nil {
		return nil, err
	}
	arr, ok := d.Items["data"].(*dataset.PyArray)
	if !ok {
		return nil, fmt.Errorf("cifar100: %s: %w: no numpy array under 'data'", where, dataset.ErrPickle)
	}
	if arr.Dtype != "u1" || len(arr.Shape) != 2 || arr.Shape[1] != Features || int64(len(arr.Data)) != arr.Shape[0]*Features {
		return nil, fmt.Errorf("cifar100: %s: %w: data is %s %s with %d bytes, want uint8 (n, %d)", where, dataset.ErrPickle, quote.Line(arr.Dtype, quote.Max), quote.Line(fmt.Sprint(arr.Shape), quote.Max), len(arr.Data), Features)
	}
	rows := int(arr.Shape[0])
	if rows > max {
		return nil, fmt.Errorf("cifar100: %s: %d images, more than the %d of the official file", where, rows, max)
	}
	var lists [2][]any
	for i, key := range []string{"coarse_labels", "fine_labels"} {
		l, ok := d.Items[key].(*dataset.PyList)
		if !ok {
			return nil, fmt.Errorf("cifar100: %s: %w: no list under '%s'", where, dataset.ErrPickle, key)
		}
		if len(l.Items) != rows {
			return nil, fmt.Errorf("cifar100: %s: %w: %d %s for %d images", where, dataset.ErrPickle, len(l.Items), key, rows)
		}
		lists[i] = l.Items
	}
	if rows < n {
		return nil, short(where, rows, n, test)
	}
	s := dataset.NewSet(Shape, n)
	for i := range n {
		c, okc := lists[0][i].(int64)
		f, okf := lists[1][i].(int64)
		if !okc || !okf || c < 0 || f < 0 || c > 255 || f > 255 {
			return nil, fmt.Errorf("cifar100: %s: image %d: labels %v, %v are not small integers", where, i, lists[0][i], lists[1][i])
		}
		label, err := pick(byte(c), byte(f), mode)
		if err != nil {
			return nil, fmt.Errorf("cifar100: %s: image %d: %v", where, i, err)
		}
		s.AppendPlanar(label, arr.Data[i*Features:(i+1)*Features])
	}
	return s, nil
}

// readNames reads a label names file of the binary version: one name a
// line, k of them.
func readNames(r io.Reader, size int64, where string, k int) ([]string, error) {
	if size > 1<<16 {
		return nil, fmt.Errorf("cifar100: %s: %d bytes, too large for a list of names", where, size)
	}
	b, err := readAll(r, size, where)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			names = append(names, line)
		}
	}
	if len(names) != k {
		return nil, fmt.Errorf("cifar100: %s: %d names, want %d", where, len(names), k)
	}
	return names, nil
}

// readMeta reads the Python version's meta pickle: b'fine_label_names' and
// b'coarse_label_names', lists of strings.
func readMeta(r io.Reader, size int64, where, mode string, k int) ([]string, error) {
	if size > 1<<20 {
		return nil, fmt.Errorf("cifar100: %s: %d bytes, too large for a meta file", where, size)
	}
	d, err := readDict(r, size, where)
	if err != nil {
		return nil, err
	}
	key := mode + "_label_names"
	l, ok := d.Items[key].(*dataset.PyList)
	if !ok || len(l.Items) != k {
		return nil, fmt.Errorf("cifar100: %s: %w: no list of %d names under '%s'", where, dataset.ErrPickle, k, key)
	}
	names := make([]string, k)
	for i, it := range l.Items {
		switch s := it.(type) {
		case string:
			names[i] = s
		case []byte:
			names[i] = string(s)
		default:
			return nil, fmt.Errorf("cifar100: %s: %w: name %d is %T", where, dataset.ErrPickle, i, it)
		}
	}
	return names, nil
}
