package cifar10

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cifarnet/cifarnet/dataset"
)

// record builds one binary record whose red, green and blue planes hold
// distinct recognisable values derived from (seed, plane, pixel).
func record(label byte, seed int) []byte {
	r := make([]byte, RecordSize)
	r[0] = label
	for c := range 3 {
		for p := range 1024 {
			r[1+c*1024+p] = byte(seed*7 + c*100 + p)
		}
	}
	return r
}

func batch(n, seed int) []byte {
	var b []byte
	for i := range n {
		b = append(b, record(byte((seed+i)%10), seed+i)...)
	}
	return b
}

// writeDir makes a cifar-10-batches-bin directory with files of the given
// record counts.
func writeDir(t *testing.T, counts map[string]int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), DirName)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, n := range counts {
		if err := os.WriteFile(filepath.Join(dir, name), batch(n, len(name)*1000), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

type member struct {
	name string
	typ  byte
	data []byte
}

func writeArchive(t *testing.T, members []member) string {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, m := range members {
		hdr := &tar.Header{Name: m.name, Typeflag: m.typ, Mode: 0o644, Size: int64(len(m.data))}
		if m.typ == tar.TypeSymlink {
			hdr.Linkname, hdr.Size = "/etc/passwd", 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if m.typ == tar.TypeReg {
			tw.Write(m.data)
		}
	}
	tw.Close()
	zw.Close()
	p := filepath.Join(t.TempDir(), ArchiveName)
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestChannelsLastLayout(t *testing.T) {
	s := dataset.NewSet(Shape, 0)
	if err := readRecords(s, bytes.NewReader(record(3, 1)), 1, "x"); err != nil {
		t.Fatal(err)
	}
	// Pixel p, channel c comes from plane c at offset p: Keras's (32,32,3).
	for p := range 1024 {
		for c := range 3 {
			if got, want := s.Pixels[p*3+c], byte(7+c*100+p); got != want {
				t.Fatalf("pixel %d channel %d = %d, want %d", p, c, got, want)
			}
		}
	}
	f := s.Float32()
	if f[0] != float32(s.Pixels[0])/255 || s.Labels[0] != 3 {
		t.Fatalf("Float32 %v label %d", f[0], s.Labels[0])
	}
}

func TestLoadDirAcrossBatches(t *testing.T) {
	dir := writeDir(t, map[string]int{TrainFile(1): 10000, TrainFile(2): 20, TestFile: 5})
	d, err := Load(dir, 10007, 3)
	if err != nil {
		t.Fatal(err)
	}
	if d.Train.Len() != 10007 || d.Test.Len() != 3 {
		t.Fatalf("got %d/%d samples", d.Train.Len(), d.Test.Len())
	}
	// Sample 10000 is the first of data_batch_2.
	s := dataset.NewSet(Shape, 0)
	b2 := batch(1, len(TrainFile(2))*1000)
	readRecords(s, bytes.NewReader(b2), 1, "")
	if !bytes.Equal(d.Train.Pixels[10000*Features:10001*Features], s.Pixels) || d.Train.Labels[10000] != s.Labels[0] {
		t.Fatal("sample 10000 is not the first record of data_batch_2.bin")
	}
	// A load that needs only data_batch_1 must not touch data_batch_2.
	os.Remove(filepath.Join(dir, TrainFile(2)))
	if _, err := Load(dir, 100, 3); err != nil {
		t.Fatalf("loading 100 samples needed only data_batch_1: %v", err)
	}
}

func TestLoadArchiveEqualsDir(t *testing.T) {
	counts := map[string]int{TrainFile(1): 30, TestFile: 12}
	dir := writeDir(t, counts)
	var members []member
	// The test batch first and a foreign file: order and extras must not matter.
	members = append(members, member{"README", tar.TypeReg, []byte("hello")})
	for _, name := range []string{TestFile, TrainFile(1)} {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		members = append(members, member{DirName + "/" + name, tar.TypeReg, b})
	}
	arch := writeArchive(t, members)
	a, err := Load(arch, 25, 10)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Load(dir, 25, 10)
	if err != nil {
		t.Fatal(err)
	}
	if a.Checksum() != b.Checksum() || a.Train.Len() != 25 || a.Test.Len() != 10 {
		t.Fatal("archive and directory loads differ")
	}
}

func TestLoadErrors(t *testing.T) {
	good := batch(4, 1)
	badLabel := batch(4, 1)
	badLabel[2*RecordSize] = 10
	tests := []struct {
		name    string
		setup   func(t *testing.T) string
		nTrain  int
		wantErr string
	}{
		{"missing path", func(t *testing.T) string { return filepath.Join(t.TempDir(), "nope") }, 1, "no such file"},
		{"empty directory", func(t *testing.T) string { return t.TempDir() }, 1, "missing"},
		{"truncated file", func(t *testing.T) string {
			dir := writeDir(t, map[string]int{TestFile: 4})
			os.WriteFile(filepath.Join(dir, TrainFile(1)), good[:len(good)-100], 0o644)
			return dir
		}, 1, "not a multiple of the 3073-byte record"},
		{"too few records", func(t *testing.T) string { return writeDir(t, map[string]int{TrainFile(1): 3, TestFile: 4}) }, 4, "has 3 records, want at least 4"},
		{"more records than a batch", func(t *testing.T) string {
			dir := writeDir(t, map[string]int{TestFile: 4})
			os.WriteFile(filepath.Join(dir, TrainFile(1)), nil, 0o644)
			os.Truncate(filepath.Join(dir, TrainFile(1)), (PerBatch+1)*RecordSize) // sparse: two batches joined, say
			return dir
		}, 1, "10001 records, more than the 10000 of an official batch file"},
		{"label out of range", func(t *testing.T) string {
			dir := writeDir(t, map[string]int{TestFile: 4})
			os.WriteFile(filepath.Join(dir, TrainFile(1)), badLabel, 0o644)
			return dir
		}, 4, "record 2: label 10 out of range"},
		{"not gzip", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), ArchiveName)
			os.WriteFile(p, []byte("this is not an archive"), 0o644)
			return p
		}, 1, ArchiveName + ": not a directory nor a .tar.gz archive: --data takes a cifar-10-batches-bin or cifar-10-batches-py directory or their .tar.gz"},
		// The usual slip: a batch file for the directory that holds it.
		{"a batch file", func(t *testing.T) string {
			return filepath.Join(writeDir(t, map[string]int{TrainFile(1): 4}), TrainFile(1))
		}, 1, DirName + "/" + TrainFile(1) + ": one of the data set's files: --data takes the directory that holds them (here "},
		{"a Python batch file", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "test_batch")
			os.WriteFile(p, []byte("pickle"), 0o644)
			return p
		}, 1, "test_batch: one of the data set's files"},
		{"corrupt gzip body", func(t *testing.T) string {
			p := writeArchive(t, []member{{DirName + "/" + TrainFile(1), tar.TypeReg, batch(50, 1)}})
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:len(b)/2], 0o644)
			return p
		}, 40, "cifar10:"},
		{"archive without the member", func(t *testing.T) string {
			return writeArchive(t, []member{{DirName + "/" + TestFile, tar.TypeReg, good}})
		}, 1, "archive has no member cifar-10-batches-bin/data_batch_1.bin"},
		{"symlink member refused", func(t *testing.T) string {
			return writeArchive(t, []member{{DirName + "/" + TrainFile(1), tar.TypeSymlink, nil}, {DirName + "/" + TestFile, tar.TypeReg, good}})
		}, 1, "not a regular file or directory"},
		{"traversal member refused", func(t *testing.T) string {
			return writeArchive(t, []member{{"../" + TrainFile(1), tar.TypeReg, good}, {DirName + "/" + TestFile, tar.TypeReg, good}})
		}, 1, `refusing archive member "../data_batch_1.bin": path outside the archive`},
		{"absolute member refused", func(t *testing.T) string {
			return writeArchive(t, []member{{"/etc/" + TrainFile(1), tar.TypeReg, good}})
		}, 1, "path outside the archive"},
		{"link elsewhere refused", func(t *testing.T) string {
			return writeArchive(t, []member{{"README", tar.TypeSymlink, nil}, {DirName + "/" + TrainFile(1), tar.TypeReg, good}})
		}, 1, `refusing archive member "README": not a regular file`},
		{"device refused", func(t *testing.T) string {
			return writeArchive(t, []member{{"dev", tar.TypeChar, nil}})
		}, 1, "not a regular file or directory"},
		{"too many samples", func(t *testing.T) string { return t.TempDir() }, 50001, "want 0 to 50000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.setup(t), tt.nTrain, 1)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
			if strings.Count(err.Error(), "\n") > 0 {
				t.Fatalf("error spans lines: %q", err)
			}
		})
	}
}

// TestLoadNamesEveryMissingBatch: a load that needs batch files the
// directory or archive lacks names all of them (the training ones, as
// the first missing is one), not only the first.
func TestLoadNamesEveryMissingBatch(t *testing.T) {
	dir := writeDir(t, map[string]int{TrainFile(2): 1, TestFile: 1})
	arch := writeArchive(t, []member{{DirName + "/" + TrainFile(2), tar.TypeReg, batch(PerBatch, 1)}})
	for src, want := range map[string][]string{dir: {TrainFile(1), TrainFile(3)}, arch: {TrainFile(1), TrainFile(3)}} {
		_, err := Load(src, 2*PerBatch+1, 1)
		var short *ShortError
		if !errors.As(err, &short) || !slices.Equal(short.Missing, want) || short.Test {
			t.Errorf("%s: error %v, want a ShortError of missing %v", src, err, want)
		}
	}
	// A short file is not missing.
	_, err := Load(writeDir(t, map[string]int{TrainFile(1): 3, TestFile: 1}), 4, 1)
	if short := (*ShortError)(nil); !errors.As(err, &short) || short.Missing != nil {
		t.Errorf("a short batch: %v", err)
	}
}

// sharedData is the real data beside the checkout (see ../shared/README.md).
func sharedData(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("..", "..", "shared", DirName)
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("real data not found at %s", dir)
	}
	return dir
}

// TestRealData checks the published facts of the official files.
func TestRealData(t *testing.T) {
	d, err := Load(sharedData(t), PerBatch, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := d.Train.Counts(NumClasses), []int{1005, 974, 1032, 1016, 999, 937, 1030, 1001, 1025, 981}; !slices.Equal(got, want) {
		t.Errorf("data_batch_1 class counts %v, want %v", got, want)
	}
	if got, want := d.Train.Labels[:10], []uint8{6, 9, 9, 4, 1, 1, 2, 7, 8, 3}; !slices.Equal(got, want) {
		t.Errorf("first training labels %v, want %v", got, want)
	}
	if got, want := d.Test.Labels[:10], []uint8{3, 8, 8, 0, 6, 6, 1, 6, 3, 1}; !slices.Equal(got, want) {
		t.Errorf("first test labels %v, want %v", got, want)
	}
	if names := ReadClassNames(sharedData(t)); !slices.Equal(names, ClassNames[:]) {
		t.Errorf("batches.meta.txt names %v", names)
	}
	// The shared test batch holds exactly 1000 records.
	if _, err := Load(sharedData(t), 1, 1001); err == nil || !strings.Contains(err.Error(), "has 1000 records") {
		t.Errorf("asking for 1001 test samples: %v", err)
	}
}

func TestOversizedMemberRefused(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	// A header claiming 1 GiB: refused before a byte of it is read.
	tw.WriteHeader(&tar.Header{Name: DirName + "/" + TrainFile(1), Typeflag: tar.TypeReg, Mode: 0o644, Size: 1 << 30})
	zw.Close()
	p := filepath.Join(t.TempDir(), ArchiveName)
	os.WriteFile(p, buf.Bytes(), 0o644)
	_, err := Load(p, 1, 0)
	if err == nil || !strings.Contains(err.Error(), "more than any CIFAR-10 file") {
		t.Fatalf("error %v", err)
	}
}

// TestArchiveCRCChecked: an archive whose deflate data was altered (stored
// blocks, so the change goes straight into a pixel) is refused, even when
// the altered member is the only one read and the archive has more after it.
func TestArchiveCRCChecked(t *testing.T) {
	first := batch(20, 1)
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.NoCompression)
	tw := tar.NewWriter(zw)
	for _, m := range []member{{DirName + "/" + TrainFile(1), tar.TypeReg, first}, {DirName + "/" + TestFile, tar.TypeReg, batch(5, 2)}} {
		tw.WriteHeader(&tar.Header{Name: m.name, Typeflag: m.typ, Mode: 0o644, Size: int64(len(m.data))})
		tw.Write(m.data)
	}
	tw.Close()
	zw.Close()
	good := buf.Bytes()
	// The pixel byte 100 of record 3 sits after the gzip header (10 bytes),
	// the stored block's 5-byte header and the tar header (512 bytes).
	at := 10 + 5 + 512 + 3*RecordSize + 1 + 100
	if good[at] != first[3*RecordSize+1+100] {
		t.Fatalf("byte %d is not the pixel byte: the layout assumption is wrong", at)
	}
	bad := bytes.Clone(good)
	bad[at] ^= 0xff
	dir := t.TempDir()
	goodName, badName := filepath.Join(dir, "good.tar.gz"), filepath.Join(dir, "bad.tar.gz")
	os.WriteFile(goodName, good, 0o644)
	os.WriteFile(badName, bad, 0o644)
	if _, err := Load(goodName, 20, 0); err != nil {
		t.Fatalf("intact archive: %v", err)
	}
	_, err := Load(badName, 20, 0)
	if err == nil || !strings.Contains(err.Error(), "corrupt archive") {
		t.Fatalf("altered archive: error %v, want a corrupt archive", err)
	}
}

// TestSpecialFilesRefused: a FIFO as the data, as a batch file or as the
// class names file is refused (or ignored for the names) without blocking.
func TestSpecialFilesRefused(t *testing.T) {
	dir := writeDir(t, map[string]int{TestFile: 5})
	fifo := filepath.Join(dir, TrainFile(1))
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, MetaFile), 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 3)
	go func() {
		_, err := Load(dir, 5, 5)
		done <- err
		_, err = Load(fifo, 5, 5)
		done <- err
		if names := ReadClassNames(dir); names[0] != ClassNames[0] {
			done <- fmt.Errorf("class names %v", names)
		} else {
			done <- nil
		}
	}()
	for i, want := range []string{"not a regular file", "not a regular file", ""} {
		select {
		case err := <-done:
			if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
				t.Errorf("case %d: %v, want %q", i, err, want)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("case %d blocked on a FIFO", i)
		}
	}
}
