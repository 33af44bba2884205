package cifar100

import (
	"bytes"
	"io"
	"testing"

	"github.com/cifarnet/cifarnet/dataset"
)

// FuzzRead: any bytes as a binary file or a pickle of either version are
// read strictly: no panic, and a set that is returned holds exactly the
// images asked for, with labels in range.
func FuzzRead(f *testing.F) {
	c, fi, d := planar(2)
	f.Add(binaryFile(c, fi, d), 1)
	f.Add(batchPickle(c, fi, d), 2)
	f.Add(metaPickle(), 1)
	type reader func(r io.Reader, size int64, where, mode string, n, max int, test bool) (*dataset.Set, error)
	f.Fuzz(func(t *testing.T, b []byte, n int) {
		n = max(0, n%4)
		for _, mode := range []string{Fine, Coarse} {
			for _, read := range []reader{readBinary, readPickle} {
				s, err := read(bytes.NewReader(b), int64(len(b)), "fuzz", mode, n, 5, false)
				if err != nil {
					continue
				}
				if s.Len() != n || len(s.Pixels) != n*Features {
					t.Fatalf("%d images, %d pixels for %d asked", s.Len(), len(s.Pixels), n)
				}
				k := map[string]byte{Fine: 100, Coarse: 20}[mode]
				for _, l := range s.Labels {
					if l >= k {
						t.Fatalf("label %d of %d classes", l, k)
					}
				}
			}
		}
		readMeta(bytes.NewReader(b), int64(len(b)), "fuzz", Fine, 100)
	})
}
