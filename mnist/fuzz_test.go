package mnist

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReadIDX: any bytes are an IDX file read strictly: no panic, no
// allocation beyond the items asked for, and what is returned is exactly
// what was asked for.
func FuzzReadIDX(f *testing.F) {
	f.Add(idxFile([]uint32{3, 28, 28}, images(3)), 2)
	f.Add(idxFile([]uint32{3}, []byte{5, 0, 4}), 3)
	f.Add(idxFile([]uint32{1 << 30, 28, 28}, nil), 1)
	f.Add(gz(idxFile([]uint32{1}, []byte{9})), 1)
	f.Fuzz(func(t *testing.T, b []byte, n int) {
		n = max(0, n%8)
		for _, dims := range [][]int{{28, 28}, nil} {
			item := 1
			for _, d := range dims {
				item *= d
			}
			count, data, err := readIDX(bytes.NewReader(b), "fuzz", dims, 5, n)
			if err != nil {
				continue
			}
			if count > 5 || (n <= count && len(data) != n*item) {
				t.Fatalf("count %d, %d bytes for %d items of %d", count, len(data), n, item)
			}
		}
	})
}

// FuzzNPZ: any bytes are an .npz read strictly.
func FuzzNPZ(f *testing.F) {
	for _, name := range []string{"tiny.npz", "tiny_stored.npz", "object_labels.npz"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		for _, m := range []struct {
			name string
			dims []int
			item int
		}{{"x_train.npy", []int{28, 28}, 784}, {"y_train.npy", nil, 1}} {
			count, data, err := npzArray(z, "fuzz", m.name, m.dims, 5, 2)
			if err == nil && count >= 2 && len(data) != 2*m.item {
				t.Fatalf("%s: %d bytes for 2 items", m.name, len(data))
			}
		}
	})
}
