package cifar10

import (
	"archive/tar"
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cifarnet/cifarnet/dataset"
)

// py2Batch builds, opcode by opcode, a batch as Python 2's cPickle writes
// the official cifar-10-batches-py files (protocol 2): a dict of
// SHORT_BINSTRING keys, the labels as a list of BININT1, and the data as
// numpy's _reconstruct(ndarray, (0,), 'b') with a BUILD state
// (1, (n, 3072), dtype('u1', 0, 1), False, <BINSTRING of the bytes>).
func py2Batch(labels []byte, data []byte) []byte {
	var b bytes.Buffer
	short := func(s string) { b.WriteByte('U'); b.WriteByte(byte(len(s))); b.WriteString(s) }
	b.Write([]byte{0x80, 2, '}', 'q', 1, '('})
	short("data")
	b.WriteString("cnumpy.core.multiarray\n_reconstruct\nq\x02cnumpy\nndarray\nq\x03K\x00\x85U\x01b\x87R")
	b.Write([]byte{'(', 'K', 1, 'M'})
	binary.Write(&b, binary.LittleEndian, uint16(len(labels)))
	b.Write([]byte{'M'})
	binary.Write(&b, binary.LittleEndian, uint16(Features))
	b.WriteByte(0x86)
	b.WriteString("cnumpy\ndtype\nq\x04U\x02u1K\x00K\x01\x87Rq\x05(K\x03U\x01|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb")
	b.WriteByte(0x89)
	b.WriteByte('T')
	binary.Write(&b, binary.LittleEndian, uint32(len(data)))
	b.Write(data)
	b.WriteString("tb")
	short("labels")
	b.WriteString("]q\x06(")
	for _, l := range labels {
		b.Write([]byte{'K', l})
	}
	b.WriteString("e")
	short("batch_label")
	short("training batch 1 of 5")
	b.WriteString("u.")
	return b.Bytes()
}

// planar returns test pixels in the file's planar order and the labels.
func planar(n int) ([]byte, []byte) {
	data := make([]byte, n*Features)
	for i := range data {
		data[i] = byte(i*7 + i/1024)
	}
	labels := make([]byte, n)
	for i := range labels {
		labels[i] = byte((i * 3) % NumClasses)
	}
	return labels, data
}

// binaryOf returns the same records in the binary format.
func binaryOf(labels, data []byte) []byte {
	var b []byte
	for i, l := range labels {
		b = append(b, l)
		b = append(b, data[i*Features:(i+1)*Features]...)
	}
	return b
}

func TestPickleMatchesBinary(t *testing.T) {
	labels, data := planar(5)
	want := dataset.NewSet(Shape, 0)
	if err := readRecords(want, bytes.NewReader(binaryOf(labels, data)), 5, "bin"); err != nil {
		t.Fatal(err)
	}
	for name, file := range map[string][]byte{"python 2 cPickle": py2Batch(labels, data)} {
		v, err := dataset.Unpickle(file)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := decodeBatch(v, 4, name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(got.Pixels, want.Pixels[:4*Features]) || !bytes.Equal(got.Labels, want.Labels[:4]) {
			t.Fatalf("%s: decoded batch differs from the binary records", name)
		}
	}
	// A file written by Python 3 and numpy (testdata/py3_batch.pickle, made
	// with pickle.dumps(..., protocol=4)) against its binary twin.
	pb, _ := os.ReadFile("testdata/py3_batch.pickle")
	bb, _ := os.ReadFile("testdata/py3_batch.bin")
	v, err := dataset.Unpickle(pb)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeBatch(v, -1, "py3")
	if err != nil {
		t.Fatal(err)
	}
	ref := dataset.NewSet(Shape, 0)
	readRecords(ref, bytes.NewReader(bb), 3, "py3.bin")
	if !bytes.Equal(got.Pixels, ref.Pixels) || !bytes.Equal(got.Labels, ref.Labels) || got.Labels[1] != 8 {
		t.Fatal("python 3 batch differs from its binary twin")
	}
}

func TestPickleRefusesEverythingElse(t *testing.T) {
	evil, _ := os.ReadFile("testdata/evil.pickle")
	labels, data := planar(2)
	good := py2Batch(labels, data)
	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"os.system", evil, "refusing global"},
		{"truncated", good[:len(good)/2], "truncated"},
		{"empty", nil, "truncated"},
		{"not a dict", []byte("\x80\x02K\x01."), "top level is int64"},
		{"builtins.eval", []byte("\x80\x02cbuiltins\neval\nU\x04'hi'\x85R."), "refusing global builtins.eval"},
		{"unknown opcode", []byte("\x80\x02I1\n."), "unsupported opcode"},
		{"huge length", []byte("\x80\x02T\xff\xff\xff\x7f"), "runs past the end"},
		{"labels out of range", py2Batch([]byte{1, 12}, data), "label 12 out of range"},
		{"wrong shape", py2Batch(labels, data[:Features]), "data is u1 [2 3072] with 3072 bytes"},
	}
	for _, tt := range tests {
		v, err := dataset.Unpickle(tt.file)
		if err == nil {
			_, err = decodeBatch(v, -1, tt.name)
		}
		if err == nil || !errors.Is(err, dataset.ErrPickle) && !strings.Contains(err.Error(), "out of range") || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.want)
		}
	}
}

func TestLoadPythonDirAndArchive(t *testing.T) {
	labels, data := planar(6)
	dir := filepath.Join(t.TempDir(), PyDirName)
	os.Mkdir(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "data_batch_1"), py2Batch(labels, data), 0o644)
	os.WriteFile(filepath.Join(dir, "test_batch"), py2Batch(labels[:3], data[:3*Features]), 0o644)
	fromDir, err := Load(dir, 5, 2)
	if err != nil {
		t.Fatal(err)
	}
	binDir := writeDirBytes(t, map[string][]byte{TrainFile(1): binaryOf(labels, data), TestFile: binaryOf(labels[:3], data[:3*Features])})
	fromBin, err := Load(binDir, 5, 2)
	if err != nil {
		t.Fatal(err)
	}
	if fromDir.Checksum() != fromBin.Checksum() {
		t.Fatal("python directory and binary directory give different data")
	}
	arch := writeArchive(t, []member{
		{PyDirName + "/data_batch_1", tar.TypeReg, py2Batch(labels, data)},
		{PyDirName + "/test_batch", tar.TypeReg, py2Batch(labels[:3], data[:3*Features])},
	})
	fromArch, err := Load(arch, 5, 2)
	if err != nil {
		t.Fatal(err)
	}
	if fromArch.Checksum() != fromBin.Checksum() {
		t.Fatal("python archive and binary directory give different data")
	}
}

func writeDirBytes(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for name, b := range files {
		os.WriteFile(filepath.Join(dir, name), b, 0o644)
	}
	return dir
}
