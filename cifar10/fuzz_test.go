package cifar10

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/cifarnet/cifarnet/dataset"
)

// Seeds of the fuzzers, kept small (Go's fuzzing engine slows to a crawl
// on inputs of kilobytes); also written to testdata/fuzz by TestWriteCorpus.
type recordSeed struct {
	labels []byte
	cut    uint16
}

func seedRecords() []recordSeed {
	return []recordSeed{{[]byte{3, 8}, 0}, {[]byte{1, 2, 3}, 100}, {[]byte{10}, 0}, {nil, 0}}
}

// recordStream builds records with the given labels and fixed pixels, cut
// short by cut bytes.
func recordStream(labels []byte, cut uint16) []byte {
	var b []byte
	for i, l := range labels {
		b = append(b, l)
		for p := range Features {
			b = append(b, byte(i+p))
		}
	}
	if len(b) > 0 {
		b = b[:len(b)-int(cut)%len(b)]
	}
	return b
}

func tarGz(members []member) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, m := range members {
		tw.WriteHeader(&tar.Header{Name: m.name, Typeflag: m.typ, Mode: 0o644, Size: int64(len(m.data))})
		tw.Write(m.data)
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

func seedArchives() [][]byte {
	labels, data := planar(1)
	return [][]byte{
		tarGz([]member{{DirName + "/" + TrainFile(1), tar.TypeReg, binaryOf(labels, data)}, {DirName + "/" + TestFile, tar.TypeReg, binaryOf(labels, data)}}),
		tarGz([]member{{PyDirName + "/data_batch_1", tar.TypeReg, py2Batch(labels, data)}, {PyDirName + "/test_batch", tar.TypeReg, py2Batch(labels, data)}}),
		tarGz([]member{{"../" + TrainFile(1), tar.TypeReg, binaryOf(labels, data)}}),
	}
}

func seedPickles() [][]byte {
	evil, _ := os.ReadFile("testdata/evil.pickle")
	return [][]byte{py2Batch(nil, nil), py2Batch([]byte{1}, nil), evil, []byte("\x80\x02}q\x01(U\x06labels]q\x02(K\x01K\x02eu.")}
}

// FuzzReadRecords: the binary reader never panics, and what it accepts is
// whole records with labels in range.
func FuzzReadRecords(f *testing.F) {
	for _, s := range seedRecords() {
		f.Add(s.labels, s.cut)
	}
	f.Fuzz(func(t *testing.T, labels []byte, cut uint16) {
		if len(labels) > 64 {
			return
		}
		b := recordStream(labels, cut)
		n := len(labels)
		s := dataset.NewSet(Shape, 0)
		err := readRecords(s, bytes.NewReader(b), n, "fuzz")
		valid := len(b) == n*RecordSize
		for _, l := range labels {
			valid = valid && l < NumClasses
		}
		if (err == nil) != valid {
			t.Fatalf("labels %v cut %d: error %v", labels, cut, err)
		}
		for _, l := range s.Labels {
			if l >= NumClasses {
				t.Fatalf("label %d accepted", l)
			}
		}
		if len(s.Pixels) != len(s.Labels)*Features {
			t.Fatalf("%d pixels for %d labels", len(s.Pixels), len(s.Labels))
		}
	})
}

// FuzzReadArchive: any bytes as cifar-10-*.tar.gz give data or an error,
// never a panic, and only as many records as asked for.
func FuzzReadArchive(f *testing.F) {
	for _, s := range seedArchives() {
		f.Add(s)
	}
	ws, _ := plan(2, 1)
	f.Fuzz(func(t *testing.T, b []byte) {
		sets, err := readArchive(bytes.NewReader(b), "fuzz.tar.gz", ws)
		if err != nil {
			return
		}
		if sets[TrainFile(1)].Len() != 2 || sets[TestFile].Len() != 1 {
			t.Fatalf("accepted archive gave %d/%d records", sets[TrainFile(1)].Len(), sets[TestFile].Len())
		}
	})
}

// FuzzUnpickle: the pickle reader never panics and never accepts a batch
// whose shape or labels are wrong.
func FuzzUnpickle(f *testing.F) {
	for _, s := range seedPickles() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := dataset.Unpickle(b)
		if err != nil {
			return
		}
		s, err := decodeBatch(v, -1, "fuzz")
		if err != nil {
			return
		}
		if len(s.Pixels) != s.Len()*Features {
			t.Fatalf("%d pixels for %d images", len(s.Pixels), s.Len())
		}
		for _, l := range s.Labels {
			if l >= NumClasses {
				t.Fatalf("label %d accepted", l)
			}
		}
	})
}

// TestWriteCorpus regenerates testdata/fuzz from the seeds above when
// CIFARNET_WRITE_CORPUS is set (the files are committed).
func TestWriteCorpus(t *testing.T) {
	if os.Getenv("CIFARNET_WRITE_CORPUS") == "" {
		t.Skip("set CIFARNET_WRITE_CORPUS=1 to regenerate testdata/fuzz")
	}
	write := func(name string, i int, content string) {
		dir := filepath.Join("testdata", "fuzz", name)
		os.MkdirAll(dir, 0o755)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed%d", i)), []byte("go test fuzz v1\n"+content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, s := range seedRecords() {
		write("FuzzReadRecords", i, fmt.Sprintf("[]byte(%q)\nuint16(%d)\n", s.labels, s.cut))
	}
	for name, seeds := range map[string][][]byte{"FuzzReadArchive": seedArchives(), "FuzzUnpickle": seedPickles()} {
		for i, s := range seeds {
			write(name, i, fmt.Sprintf("[]byte(%q)\n", s))
		}
	}
}
