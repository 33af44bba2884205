package main

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	binenc "encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// zeroDeflate is a raw deflate stream of prefix then about total zero
// bytes, built from one compressed block of 16 MiB repeated (each block
// refers only to zeros), so that gigabytes cost a few megabytes.
func zeroDeflate(t *testing.T, prefix []byte, total int64) []byte {
	t.Helper()
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestCompression)
	w.Write(prefix)
	w.Write([]byte{0})
	w.Flush()
	mark := b.Len()
	w.Write(make([]byte, 16<<20))
	w.Flush()
	block := append([]byte(nil), b.Bytes()[mark:]...)
	for n := int64(16 << 20); n < total; n += 16 << 20 {
		b.Write(block)
	}
	b.Write([]byte{0x01, 0x00, 0x00, 0xff, 0xff}) // a final empty stored block
	return b.Bytes()
}

func idxHeader(magic uint32, dims ...uint32) []byte {
	var b bytes.Buffer
	binenc.Write(&b, binenc.BigEndian, magic)
	binenc.Write(&b, binenc.BigEndian, dims)
	return b.Bytes()
}

func npyHeader(descr, shape string) []byte {
	h := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape)
	h += strings.Repeat(" ", 117-len(h)) + "\n"
	return append([]byte("\x93NUMPY\x01\x00\x76\x00"), h...)
}

// TestReaderBombsUnderAMemoryLimit: crafted MNIST (IDX, gzipped or not,
// and .npz) and CIFAR-100 files that declare, or expand to, gigabytes are
// refused with one line under a 2 GB address-space limit, from what they
// declare or at the first byte past what the header honestly needs.
func TestReaderBombsUnderAMemoryLimit(t *testing.T) {
	tmp := t.TempDir()
	idxDir := func(name string, trainImages []byte, gz bool) string {
		d := filepath.Join(tmp, name)
		os.Mkdir(d, 0o755)
		f := "train-images-idx3-ubyte"
		if gz {
			f += ".gz"
		}
		os.WriteFile(filepath.Join(d, f), trainImages, 0o644)
		os.WriteFile(filepath.Join(d, "train-labels-idx1-ubyte"), append(idxHeader(0x801, 60000), make([]byte, 60000)...), 0o644)
		os.WriteFile(filepath.Join(d, "t10k-images-idx3-ubyte"), append(idxHeader(0x803, 10000, 28, 28), make([]byte, 10000*784)...), 0o644)
		os.WriteFile(filepath.Join(d, "t10k-labels-idx1-ubyte"), append(idxHeader(0x801, 10000), make([]byte, 10000)...), 0o644)
		return d
	}
	// A gzip member of 3 GiB of zeros after an honest header of 60000 images.
	var gzBomb bytes.Buffer
	gzBomb.Write([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	gzBomb.Write(zeroDeflate(t, idxHeader(0x803, 60000, 28, 28), 3<<30))
	gzBomb.Write(make([]byte, 8)) // CRC and size, never reached
	npz := func(name string, members map[string][]byte, raw map[string][]byte, declared uint64) string {
		p := filepath.Join(tmp, name)
		var b bytes.Buffer
		z := zip.NewWriter(&b)
		for n, m := range members {
			w, _ := z.Create(n)
			w.Write(m)
		}
		for n, m := range raw {
			w, _ := z.CreateRaw(&zip.FileHeader{Name: n, Method: zip.Deflate, CompressedSize64: uint64(len(m)), UncompressedSize64: declared})
			w.Write(m)
		}
		z.Close()
		os.WriteFile(p, b.Bytes(), 0o644)
		return p
	}
	labels := append(npyHeader("|u1", "(60000,)"), make([]byte, 60000)...)
	honest := uint64(len(npyHeader("|u1", "(60000, 28, 28)"))) + 60000*784
	pickle := func(name string, b []byte) string {
		d := filepath.Join(tmp, name)
		os.Mkdir(d, 0o755)
		for _, f := range []string{"train", "test", "meta"} {
			os.WriteFile(filepath.Join(d, f), b, 0o644)
		}
		return d
	}
	u32 := func(v uint32) []byte { return binenc.LittleEndian.AppendUint32(nil, v) }
	u64 := func(v uint64) []byte { return binenc.LittleEndian.AppendUint64(nil, v) }
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	tests := []struct {
		dataset, data, want string
	}{
		{"mnist", idxDir("gzbomb", gzBomb.Bytes(), true), "longer than the 60000 images its header claims"},
		{"mnist", idxDir("dims", idxHeader(0x803, 0xffffffff, 0xffffff, 0xffffff), false), "header claims 4294967295 images"},
		{"mnist", idxDir("magic", idxHeader(0x0b03, 60000, 28, 28), false), "element type 0x0b"},
		{"mnist", npz("shape.npz", map[string][]byte{"x_train.npy": npyHeader("|u1", "(9999999999999, 28, 28)"), "y_train.npy": labels}, nil, 0), "shape claims 9999999999999 items"},
		{"mnist", npz("object.npz", map[string][]byte{"x_train.npy": append(npyHeader("|O", "(1, 28, 28)"), "\x80\x02]."...), "y_train.npy": labels}, nil, 0), `dtype "|O"`},
		{"mnist", npz("bigendian.npz", map[string][]byte{"x_train.npy": npyHeader(">u2", "(60000, 28, 28)"), "y_train.npy": labels}, nil, 0), `dtype ">u2"`},
		{"mnist", npz("header.npz", map[string][]byte{"x_train.npy": []byte("\x93NUMPY\x01\x00\xa0\x0f{'descr'"), "y_train.npy": labels}, nil, 0), "truncated .npy header"},
		{"mnist", npz("dotdot.npz", map[string][]byte{"../x_train.npy": npyHeader("|u1", "(60000, 28, 28)"), "y_train.npy": labels}, nil, 0), "no such array"},
		{"mnist", npz("declared.npz", map[string][]byte{"y_train.npy": labels}, map[string][]byte{"x_train.npy": zeroDeflate(t, npyHeader("|u1", "(60000, 28, 28)"), 64<<20)}, 1<<40), "bytes, want"},
		{"mnist", npz("real.npz", map[string][]byte{"y_train.npy": labels}, map[string][]byte{"x_train.npy": zeroDeflate(t, npyHeader("|u1", "(60000, 28, 28)"), 3<<30)}, honest), "corrupt"},
		{"cifar100", pickle("binbytes", cat([]byte("\x80\x03B"), u32(0xffffffff), []byte("abc"))), "runs past the end"},
		{"cifar100", pickle("binbytes8", cat([]byte("\x80\x04\x8e"), u64(1<<62), []byte("abc"))), "runs past the end"},
		{"cifar100", pickle("unicode8", cat([]byte("\x80\x04\x8d"), u64(1<<64-1), []byte("abc"))), "runs past the end"},
		{"cifar100", pickle("marks", cat([]byte("\x80\x02"), bytes.Repeat([]byte("("), 400000), []byte("."))), "not a CIFAR Python batch"},
	}
	for _, tt := range tests {
		_, stderr, code := runUnderLimit(t, 2<<20, "train", "--dataset", tt.dataset, "--data", tt.data, "--epochs", "1",
			"--train-samples", "100", "--test-samples", "100", "--out", filepath.Join(tmp, "out"))
		if code != 1 || !strings.Contains(stderr, tt.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%s %s: exit %d, stderr %.300q, want exit 1 and one line containing %q", tt.dataset, filepath.Base(tt.data), code, stderr, tt.want)
		}
	}
}
