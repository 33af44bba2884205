// Package mnist reads MNIST and Fashion-MNIST, two data sets of 28x28
// grayscale images in ten classes (60,000 training and 10,000 test
// images), in the IDX files they are published as (gzipped or not), or, for
// MNIST, in the mnist.npz Keras downloads.
//
// Images are kept as Keras's load_data returns them, (N, 28, 28) uint8 rows
// of pixels; flattened they are the 784 inputs of the network.
package mnist

import (
	"archive/zip"
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cifarnet/cifarnet/dataset"
	"github.com/cifarnet/cifarnet/internal/oserr"
	"github.com/cifarnet/cifarnet/internal/regular"
)

// Geometry and sizes of both data sets.
const (
	Height    = 28
	Width     = 28
	TrainSize = 60000
	TestSize  = 10000
)

// Shape is an MNIST image's: 28x28, one gray channel.
var Shape = dataset.Shape{Height: Height, Width: Width, Channels: 1}

// ClassNames are MNIST's classes, the digits.
var ClassNames = [10]string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

// FashionClassNames are Fashion-MNIST's classes in label order (Keras's
// fashion_mnist.load_data documentation, the Fashion-MNIST README).
var FashionClassNames = [10]string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

// Info describes MNIST.
func Info() dataset.Info {
	return dataset.Info{Name: "mnist", Shape: Shape, Classes: ClassNames[:], TrainSize: TrainSize, TestSize: TestSize}
}

// FashionInfo describes Fashion-MNIST.
func FashionInfo() dataset.Info {
	return dataset.Info{Name: "fashion_mnist", Shape: Shape, Classes: FashionClassNames[:], TrainSize: TrainSize, TestSize: TestSize}
}

// The files of either data set, as published (each also read gzipped,
// with ".gz" appended), and Keras's single-file MNIST.
const (
	TrainImages = "train-images-idx3-ubyte"
	TrainLabels = "train-labels-idx1-ubyte"
	TestImages  = "t10k-images-idx3-ubyte"
	TestLabels  = "t10k-labels-idx1-ubyte"
	NPZName     = "mnist.npz"
)

// maxNPZ bounds an .npz file before it is opened: Keras's mnist.npz is 11 MB.
const maxNPZ = 256 << 20

// part is one half of a load: its image and label files (or arrays) and
// how many images to take.
type part struct {
	images, labels string
	max, n         int
	test           bool
}

func parts(nTrain, nTest int) []part {
	return []part{
		{TrainImages, TrainLabels, TrainSize, nTrain, false},
		{TestImages, TestLabels, TestSize, nTest, true},
	}
}

// Load reads the first nTrain training and nTest test images of the data
// set info describes (Info or FashionInfo) from src: a directory holding the
// four IDX files (each gzipped or not), or an .npz file as Keras's
// mnist.npz. Its errors start with the data set's name.
func Load(info dataset.Info, src string, nTrain, nTest int) (*dataset.Data, error) {
	d, err := load(info, src, nTrain, nTest)
	if err != nil && info.Name != "mnist" {
		return nil, renamed{info.Name, err}
	}
	return d, err
}

// renamed is an error of the readers, which say "mnist: ", for another
// data set of the family ("fashion_mnist: ").
type renamed struct {
	name string
	err  error
}

func (r renamed) Error() string { return r.name + ": " + strings.TrimPrefix(r.err.Error(), "mnist: ") }
func (r renamed) Unwrap() error { return r.err }

func load(info dataset.Info, src string, nTrain, nTest int) (*dataset.Data, error) {
	if nTrain < 0 || nTrain > TrainSize || nTest < 0 || nTest > TestSize {
		return nil, fmt.Errorf("mnist: %d training and %d test images requested, want 0 to %d and 0 to %d", nTrain, nTest, TrainSize, TestSize)
	}
	fi, err := os.Stat(src)
	if err != nil {
		return nil, fmt.Errorf("mnist: data %s: %w", src, oserr.Bare(err))
	}
	d := &dataset.Data{Info: info, Source: src}
	sets := []**dataset.Set{&d.Train, &d.Test}
	for i, p := range parts(nTrain, nTest) {
		var s *dataset.Set
		var notOfficial []string
		switch {
		case p.n == 0: // not asked for (evaluate reads no training images): not read
			s = dataset.NewSet(Shape, 0)
		case fi.IsDir():
			s, notOfficial, err = loadIDX(info.Name, src, p)
		default:
			s, notOfficial, err = loadNPZ(info.Name, src, p)
		}
		if err != nil {
			return nil, err
		}
		*sets[i] = s
		for _, f := range notOfficial {
			if !slices.Contains(d.NotOfficial, f) { // the .npz, read for each part
				d.NotOfficial = append(d.NotOfficial, f)
			}
		}
	}
	return d, nil
}

// set checks a part's labels and builds its Set; nImages and nLabels are
// the counts the two files hold.
func set(p part, imagesName, labelsName string, nImages, nLabels int, pixels, labels []byte) (*dataset.Set, error) {
	if nImages != nLabels {
		return nil, fmt.Errorf("mnist: %s holds %d images but %s %d labels", imagesName, nImages, labelsName, nLabels)
	}
	if p.n > nImages {
		kind := "training"
		if p.test {
			kind = "test"
		}
		return nil, &dataset.ShortError{File: imagesName, Test: p.test, Have: nImages, Want: p.n, Available: nImages,
			Msg: fmt.Sprintf("mnist: %s: has %d %s images, want at least %d", imagesName, nImages, kind, p.n)}
	}
	for i, l := range labels {
		if l >= 10 {
			return nil, fmt.Errorf("mnist: %s: label %d of image %d out of range [0,10)", labelsName, l, i)
		}
	}
	return &dataset.Set{Shape: Shape, Pixels: pixels, Labels: labels}, nil
}

// loadIDX reads a part from the IDX files in dir, and names those of them
// that are not the official files.
func loadIDX(setName, dir string, p part) (*dataset.Set, []string, error) {
	imagesName, nImages, pixels, imagesOfficial, err := readIDXFile(setName, dir, p.images, []int{Height, Width}, p.max, p.n)
	if err != nil {
		return nil, nil, err
	}
	labelsName, nLabels, labels, labelsOfficial, err := readIDXFile(setName, dir, p.labels, nil, p.max, p.n)
	if err != nil {
		return nil, nil, err
	}
	var notOfficial []string
	if !imagesOfficial {
		notOfficial = append(notOfficial, imagesName)
	}
	if !labelsOfficial {
		notOfficial = append(notOfficial, labelsName)
	}
	s, err := set(p, imagesName, labelsName, nImages, nLabels, pixels, labels)
	return s, notOfficial, err
}

// readIDXFile reads base or base.gz in dir (the uncompressed file when both
// are there), gunzipping when the file starts as gzip does, and refuses
// it when it is an official file of another data set or name
// (checkOfficial). official is false for a file of no official sum.
func readIDXFile(setName, dir, base string, itemDims []int, maxCount, n int) (name string, count int, data []byte, official bool, err error) {
	name, count, data, gzipped, sum, err := readIDX1(dir, base, itemDims, maxCount, n)
	if err != nil {
		return name, count, data, false, err
	}
	if official, err = checkOfficial(setName, name, sum); err != nil {
		return name, 0, nil, false, err
	}
	return name, count, data, official || unlisted(setName, base, gzipped), nil
}

// readIDX1 reads base or base.gz in dir; it returns the file's SHA-256 and
// whether it was gzipped.
func readIDX1(dir, base string, itemDims []int, maxCount, n int) (string, int, []byte, bool, []byte, error) {
	name := filepath.Join(dir, base)
	if _, err := os.Stat(name); errors.Is(err, os.ErrNotExist) {
		if _, gzErr := os.Stat(name + ".gz"); gzErr == nil {
			name += ".gz"
		} else {
			return name, 0, nil, false, nil, fmt.Errorf("mnist: %s: missing: %s holds neither %s nor %s.gz", name, dir, base, base)
		}
	}
	f, err := regular.Open(name)
	if err != nil {
		return name, 0, nil, false, nil, fmt.Errorf("mnist: %s: %w", name, oserr.Bare(err))
	}
	defer f.Close()
	hr, sum := hashing(f)
	br := bufio.NewReaderSize(hr, 1<<16)
	var r io.Reader = br
	head, _ := br.Peek(2)
	gzipped := len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b
	if gzipped {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return name, 0, nil, false, nil, fmt.Errorf("mnist: %s: corrupt gzip: %v", name, err)
		}
		defer zr.Close()
		r = zr
	}
	count, data, err := readIDX(r, name, itemDims, maxCount, n)
	if err != nil {
		return name, count, data, false, nil, err
	}
	// What gzip left unread (nothing, unless the file is odd) joins the sum.
	if _, err := io.Copy(io.Discard, br); err != nil {
		return name, 0, nil, false, nil, fmt.Errorf("mnist: %s: %w", name, oserr.Bare(err))
	}
	return name, count, data, gzipped, sum.Sum(nil), nil
}

// loadNPZ reads a part from an .npz file, and names it when it is not
// the official file.
func loadNPZ(setName, name string, p part) (*dataset.Set, []string, error) {
	s, official, err := loadNPZ1(setName, name, p)
	if err != nil || official {
		return s, nil, err
	}
	return s, []string{name}, nil
}

func loadNPZ1(setName, name string, p part) (*dataset.Set, bool, error) {
	f, size, err := regular.OpenLimit(name, maxNPZ)
	if err != nil {
		return nil, false, fmt.Errorf("mnist: %s: %w", name, oserr.Bare(err))
	}
	defer f.Close()
	// Keras's mnist.npz read as another set is refused; a file of another
	// sum is a user's own.
	sum, err := fileSum(f)
	if err != nil {
		return nil, false, fmt.Errorf("mnist: %s: %w", name, oserr.Bare(err))
	}
	official, err := checkOfficial(setName, name, sum)
	if err != nil {
		return nil, false, err
	}
	var head [4]byte
	if _, err := f.ReadAt(head[:], 0); err != nil || !isZip(head[:]) {
		return nil, false, fmt.Errorf("mnist: %s: not an .npz (zip) file nor a directory of IDX files", name)
	}
	z, err := zip.NewReader(f, size)
	if err != nil {
		return nil, false, fmt.Errorf("mnist: %s: corrupt .npz: %v", name, err)
	}
	x, y := "x_train.npy", "y_train.npy"
	if p.test {
		x, y = "x_test.npy", "y_test.npy"
	}
	nImages, pixels, err := npzArray(z, name, x, []int{Height, Width}, p.max, p.n)
	if err != nil {
		return nil, false, err
	}
	nLabels, labels, err := npzArray(z, name, y, nil, p.max, p.n)
	if err != nil {
		return nil, false, err
	}
	s, err := set(p, name+":"+x, name+":"+y, nImages, nLabels, pixels, labels)
	return s, official, err
}

// Where Keras downloads MNIST and Fashion-MNIST from, with the SHA-256
// sums it checks (keras/src/datasets/mnist.py, fashion_mnist.py).
const (
	KerasOrigin = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
	NPZSHA256   = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
)

// FashionSHA256 are the SHA-256 sums of Fashion-MNIST's four files, as
// Keras checks them.
var FashionSHA256 = map[string]string{
	TrainLabels + ".gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
	TrainImages + ".gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
	TestLabels + ".gz":  "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
	TestImages + ".gz":  "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
}

// maxDownload bounds each downloaded file (the largest, Fashion-MNIST's
// training images, is 26 MB).
const maxDownload = 64 << 20

// Places says where MNIST is looked for: $CIFARNET_MNIST, cifarnet's cache
// (a directory mnist/ of the IDX files, or mnist.npz), Keras's cache
// (~/.keras/datasets/mnist.npz); and that a download fetches Keras's
// mnist.npz into cifarnet's cache.
func Places() dataset.Places {
	return dataset.Places{Title: "MNIST", EnvVar: "CIFARNET_MNIST", Cache: []string{"mnist", NPZName}, Keras: []string{NPZName},
		Want:  "a directory of the four IDX files (gzipped or not) or Keras's mnist.npz",
		Files: []dataset.Remote{{Name: NPZName, Downloader: dataset.Downloader{URL: KerasOrigin + NPZName, SHA256: NPZSHA256, MaxSize: maxDownload}}},
		Found: NPZName}
}

// FashionPlaces says where Fashion-MNIST is looked for:
// $CIFARNET_FASHION_MNIST, cifarnet's cache (fashion-mnist/), Keras's
// cache (~/.keras/datasets/fashion-mnist/), each a directory of the IDX
// files; and that a download fetches the four gzipped files from Keras's
// origin into cifarnet's cache/fashion-mnist.
func FashionPlaces() dataset.Places {
	p := dataset.Places{Title: "Fashion-MNIST", EnvVar: "CIFARNET_FASHION_MNIST", Cache: []string{"fashion-mnist"}, Keras: []string{"fashion-mnist"},
		Want: "a directory of the four Fashion-MNIST IDX files (gzipped or not)", Dir: "fashion-mnist", Found: "fashion-mnist"}
	for _, f := range []string{TrainLabels, TrainImages, TestLabels, TestImages} {
		f += ".gz"
		p.Files = append(p.Files, dataset.Remote{Name: f, Downloader: dataset.Downloader{URL: KerasOrigin + f, SHA256: FashionSHA256[f], MaxSize: maxDownload}})
	}
	return p
}
