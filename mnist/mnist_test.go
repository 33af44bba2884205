package mnist

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/cifarnet/cifarnet/dataset"
)

// idxFile is an IDX file of unsigned bytes as the MNIST site describes it:
// 00 00 08 ndims, the dimensions big-endian, the bytes.
func idxFile(dims []uint32, data []byte) []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0, 0x08, byte(len(dims))})
	binary.Write(&b, binary.BigEndian, dims)
	b.Write(data)
	return b.Bytes()
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

// pixel is the test images' pixel (i, y, x), distinct for neighbours.
func pixel(i, y, x int) byte { return byte(i*31 + y*28 + x) }

func images(n int) []byte {
	var b []byte
	for i := range n {
		for y := range 28 {
			for x := range 28 {
				b = append(b, pixel(i, y, x))
			}
		}
	}
	return b
}

// writeDir writes the four IDX files of a data set of nTrain and nTest
// images with the given labels (gzipped when zip) into a new directory.
func writeDir(t *testing.T, trainLabels, testLabels []byte, zip bool) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string][]byte{
		TrainImages: idxFile([]uint32{uint32(len(trainLabels)), 28, 28}, images(len(trainLabels))),
		TrainLabels: idxFile([]uint32{uint32(len(trainLabels))}, trainLabels),
		TestImages:  idxFile([]uint32{uint32(len(testLabels)), 28, 28}, images(len(testLabels))),
		TestLabels:  idxFile([]uint32{uint32(len(testLabels))}, testLabels),
	}
	for name, b := range files {
		if zip {
			name, b = name+".gz", gz(b)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadIDX(t *testing.T) {
	for _, zip := range []bool{false, true} {
		dir := writeDir(t, []byte{5, 0, 4, 1}, []byte{7, 2, 1}, zip)
		d, err := Load(Info(), dir, 3, 2)
		if err != nil {
			t.Fatalf("gzip %v: %v", zip, err)
		}
		if !slices.Equal(d.Train.Labels, []byte{5, 0, 4}) || !slices.Equal(d.Test.Labels, []byte{7, 2}) {
			t.Errorf("gzip %v: labels %v %v", zip, d.Train.Labels, d.Test.Labels)
		}
		if d.Train.Shape != Shape || len(d.Train.Pixels) != 3*784 || d.Train.Pixels[2*784+5*28+7] != pixel(2, 5, 7) {
			t.Errorf("gzip %v: pixels of image 2 at (5,7) wrong or wrong size %d", zip, len(d.Train.Pixels))
		}
		if d.Name != "mnist" || d.NumClasses() != 10 {
			t.Errorf("info %+v", d.Info)
		}
	}
}

// Each broken file is refused with an error naming it and what is wrong.
func TestBrokenIDX(t *testing.T) {
	labels := []byte{5, 0, 4}
	good := idxFile([]uint32{3, 28, 28}, images(3))
	tests := []struct {
		name  string
		file  string
		bytes []byte
		want  string
	}{
		{"wrong magic", TrainImages, append([]byte{1, 2}, good[2:]...), "not an IDX file"},
		{"element type", TrainImages, append([]byte{0, 0, 0x0d, 3}, good[4:]...), "element type 0x0d"},
		{"labels as images", TrainImages, idxFile([]uint32{3}, labels), "1 dimensions, want 3"},
		{"27x28", TrainImages, idxFile([]uint32{3, 27, 28}, images(3)[:3*27*28]), "want [28 28]"},
		{"truncated", TrainImages, good[:len(good)-1], "truncated"},
		{"longer", TrainImages, append(slices.Clone(good), 0), "longer than the 3 images"},
		{"header only", TrainImages, good[:10], "truncated header"},
		{"empty", TrainImages, nil, "not an IDX image file"},
		{"huge count", TrainImages, idxFile([]uint32{1 << 31, 28, 28}, nil), "header claims 2147483648 images, more than the 60000"},
		{"count mismatch", TrainLabels, idxFile([]uint32{2}, labels[:2]), "holds 3 images but"},
		{"label 10", TrainLabels, idxFile([]uint32{3}, []byte{5, 10, 4}), "label 10 of image 1 out of range"},
		{"bad gzip", TrainImages + ".gz", gz(good)[:40], "truncated"},
	}
	for _, tt := range tests {
		dir := writeDir(t, labels, []byte{7, 2}, false)
		if strings.HasSuffix(tt.file, ".gz") {
			os.Remove(filepath.Join(dir, strings.TrimSuffix(tt.file, ".gz")))
		}
		if err := os.WriteFile(filepath.Join(dir, tt.file), tt.bytes, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(Info(), dir, 3, 2)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), filepath.Join(dir, tt.file)) && tt.name != "count mismatch" {
			t.Errorf("%s: error %v, want one naming the file and saying %q", tt.name, err, tt.want)
		}
	}
}

func TestGzipChecksumChecked(t *testing.T) {
	dir := writeDir(t, []byte{5, 0, 4}, []byte{7, 2}, true)
	name := filepath.Join(dir, TrainLabels+".gz")
	b, _ := os.ReadFile(name)
	b[len(b)-8] ^= 1 // the CRC-32 in the trailer
	os.WriteFile(name, b, 0o644)
	if _, err := Load(Info(), dir, 1, 1); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("corrupt gzip CRC: %v, want a checksum error", err)
	}
}

func TestShortAndMissing(t *testing.T) {
	dir := writeDir(t, []byte{5, 0, 4}, []byte{7, 2}, false)
	_, err := Load(Info(), dir, 4, 1)
	var short *dataset.ShortError
	if !errors.As(err, &short) || short.Available != 3 || short.Test {
		t.Fatalf("4 of 3 training images: %v, want a ShortError with 3 available", err)
	}
	os.Remove(filepath.Join(dir, TestLabels))
	if _, err := Load(Info(), dir, 1, 1); err == nil || !strings.Contains(err.Error(), "missing") || !strings.Contains(err.Error(), TestLabels) {
		t.Fatalf("missing file: %v", err)
	}
	// Training files that are not needed are not read (here: not there).
	dir2 := writeDir(t, []byte{5}, []byte{7, 2}, true)
	os.Remove(filepath.Join(dir2, TrainImages+".gz"))
	if d, err := Load(Info(), dir2, 0, 1); err != nil || d.Train.Len() != 0 || d.Test.Len() != 1 {
		t.Fatalf("no training images: %v", err)
	}
	if _, err := Load(Info(), dir, TrainSize+1, 1); err == nil {
		t.Fatal("more than 60000 training images accepted")
	}
}

func TestSpecialFilesRefused(t *testing.T) {
	dir := writeDir(t, []byte{5, 0, 4}, []byte{7, 2}, false)
	name := filepath.Join(dir, TrainImages)
	os.Remove(name)
	if err := syscall.Mkfifo(name, 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	if _, err := Load(Info(), dir, 1, 1); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("FIFO: %v, want 'not a regular file' (and no hang)", err)
	}
}

// The fixtures are written by numpy itself (testdata/make_npz.py).
func TestLoadNPZ(t *testing.T) {
	for _, f := range []string{"tiny.npz", "tiny_stored.npz"} {
		d, err := Load(Info(), filepath.Join("testdata", f), 3, 2)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if !slices.Equal(d.Train.Labels, []byte{5, 0, 4}) || !slices.Equal(d.Test.Labels, []byte{7, 2}) {
			t.Errorf("%s: labels %v %v", f, d.Train.Labels, d.Test.Labels)
		}
		// make_npz.py: x_train[i, y, x] = (i*31 + y*28 + x) % 256, x_test[i, y, x] = (i*17 + y*28 + x + 5) % 256.
		if got := d.Train.Pixels[2*784+5*28+7]; got != byte(2*31+5*28+7) {
			t.Errorf("%s: x_train[2,5,7] = %d", f, got)
		}
		if got := d.Test.Pixels[1*784+27*28+27]; got != byte((17+27*28+27+5)%256) {
			t.Errorf("%s: x_test[1,27,27] = %d", f, got)
		}
	}
}

func TestNPZRefused(t *testing.T) {
	tests := []struct{ file, want string }{
		{"object_labels.npz", `dtype "|O", want uint8`},
		{"float_pixels.npz", `dtype "<f4", want uint8`},
		{"int64_labels.npz", `dtype "<i8", want uint8`},
		{"make_npz.py", "not an .npz (zip) file"},
	}
	for _, tt := range tests {
		_, err := Load(Info(), filepath.Join("testdata", tt.file), 1, 1)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.file, err, tt.want)
		}
	}
	// A truncated archive.
	b, _ := os.ReadFile(filepath.Join("testdata", "tiny.npz"))
	name := filepath.Join(t.TempDir(), "cut.npz")
	os.WriteFile(name, b[:len(b)/2], 0o644)
	if _, err := Load(Info(), name, 1, 1); err == nil || !strings.Contains(err.Error(), "corrupt .npz") {
		t.Errorf("truncated npz: %v", err)
	}
}

func TestParseNpyHeader(t *testing.T) {
	h, err := parseNpyHeader("{'descr': '|u1', 'fortran_order': False, 'shape': (60000, 28, 28), }          \n")
	if err != nil || h.descr != "|u1" || h.fortranOrder || !slices.Equal(h.shape, []int64{60000, 28, 28}) {
		t.Fatalf("%+v %v", h, err)
	}
	if h, err := parseNpyHeader("{'descr': '|u1', 'fortran_order': False, 'shape': (7,), }"); err != nil || !slices.Equal(h.shape, []int64{7}) {
		t.Fatalf("1-d: %+v %v", h, err)
	}
	for _, bad := range []string{
		"", "{", "{'descr': '|u1'}", "{'descr': '|u1', 'fortran_order': False, 'shape': (1,), 'x': 1}",
		"{'descr': '|u1', 'fortran_order': Maybe, 'shape': (1,)}", "{'descr': '|u1', 'fortran_order': False, 'shape': (-1,)}",
		"{'descr': '|u1', 'descr': '|u1', 'fortran_order': False, 'shape': (1,)}", "{'descr': '|u1', 'fortran_order': False, 'shape': (99999999999999999999,)}",
		"{'descr': '|u1', 'fortran_order': False, 'shape': (1,)} trailing",
	} {
		if _, err := parseNpyHeader(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func sharedMNIST(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("..", "..", "shared", "mnist")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("real MNIST not found at %s", dir)
	}
	return dir
}

// TestRealMNIST checks the published facts of the official files
// (../shared/README.md; the issue).
func TestRealMNIST(t *testing.T) {
	d, err := Load(Info(), sharedMNIST(t), TrainSize, TestSize)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := d.Train.Counts(10), []int{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}; !slices.Equal(got, want) {
		t.Errorf("training counts %v, want %v", got, want)
	}
	if got, want := d.Train.Labels[:10], []byte{5, 0, 4, 1, 9, 2, 1, 3, 1, 4}; !slices.Equal(got, want) {
		t.Errorf("first training labels %v, want %v", got, want)
	}
	if got, want := d.Test.Labels[:10], []byte{7, 2, 1, 0, 4, 1, 4, 9, 5, 9}; !slices.Equal(got, want) {
		t.Errorf("first test labels %v, want %v", got, want)
	}
	var sum int64
	for _, p := range d.Train.Pixels {
		sum += int64(p)
	}
	if mean := float64(sum) / float64(len(d.Train.Pixels)); mean < 33.3175 || mean > 33.3185 {
		t.Errorf("mean training pixel %.4f, want 33.318", mean)
	}
}

// fashionLabelsDir is a directory of the genuine Fashion-MNIST label files
// (gzipped) and image files written in the official layout, of black
// images: the training images gzipped, the test images not.
func fashionLabelsDir(t *testing.T) string {
	t.Helper()
	src := filepath.Join("..", "..", "shared", "fashion-mnist-labels")
	if _, err := os.Stat(src); err != nil {
		t.Skipf("Fashion-MNIST labels not found at %s", src)
	}
	dir := t.TempDir()
	for _, f := range []string{TrainLabels + ".gz", TestLabels + ".gz"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, f), b, 0o644)
	}
	os.WriteFile(filepath.Join(dir, TrainImages+".gz"), gz(idxFile([]uint32{TrainSize, 28, 28}, make([]byte, TrainSize*784))), 0o644)
	os.WriteFile(filepath.Join(dir, TestImages), idxFile([]uint32{TestSize, 28, 28}, make([]byte, TestSize*784)), 0o644)
	return dir
}

// The genuine Fashion-MNIST label files with image files written in the
// official layout: the published class balance (6000 and 1000 of each).
func TestRealFashionLabels(t *testing.T) {
	d, err := Load(FashionInfo(), fashionLabelsDir(t), TrainSize, TestSize)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range d.Train.Counts(10) {
		if c != 6000 {
			t.Fatalf("training counts %v, want 6000 each", d.Train.Counts(10))
		}
	}
	for _, c := range d.Test.Counts(10) {
		if c != 1000 {
			t.Fatalf("test counts %v, want 1000 each", d.Test.Counts(10))
		}
	}
	if d.Name != "fashion_mnist" || d.Classes[9] != "Ankle boot" {
		t.Errorf("info %+v", d.Info)
	}
}

// TestFashionErrorsNameFashion: Fashion-MNIST's errors name it, not MNIST
// (a directory without its image files said "mnist: …: missing").
func TestFashionErrorsNameFashion(t *testing.T) {
	dir := t.TempDir()
	_, err := Load(FashionInfo(), dir, 10, 10)
	if err == nil || !strings.HasPrefix(err.Error(), "fashion_mnist: ") || strings.Count(err.Error(), "mnist: ") != 1 || !strings.Contains(err.Error(), TrainImages) {
		t.Fatalf("Fashion-MNIST error: %v", err)
	}
	if _, err := Load(Info(), dir, 10, 10); err == nil || !strings.HasPrefix(err.Error(), "mnist: ") {
		t.Fatalf("MNIST error: %v", err)
	}
}
