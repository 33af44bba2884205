package dataset

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cifarnet/cifarnet/internal/memtest"
)

// TestPickleErrorsAreShort: a pickle naming a global of a megabyte gets an
// error of a few hundred bytes.
func TestPickleErrorsAreShort(t *testing.T) {
	long := strings.Repeat("m", 1<<20)
	for _, p := range [][]byte{
		[]byte("\x80\x02c" + long + "\n" + "x\n."),
		append([]byte("\x80\x04\x8c\x01a\x94"), append([]byte{0x8d}, append(le64(len(long)), append([]byte(long), 0x93, '.')...)...)...),
	} {
		_, err := Unpickle(p)
		if err == nil || len(err.Error()) > 400 {
			t.Errorf("error of %d bytes: %.100s", len(fmt.Sprint(err)), err)
		}
	}
}

func le64(n int) []byte {
	b := make([]byte, 8)
	for i := range b {
		b[i] = byte(n >> (8 * i))
	}
	return b
}

// TestPickleMemoryBoundedByInput: pickles of one-byte opcodes that each
// make a value (an empty dict, an empty list, an empty tuple) are refused
// within a few times their own size; they used to take about 130 bytes a
// byte (gigabytes for a batch-sized file).
func TestPickleMemoryBoundedByInput(t *testing.T) {
	const size = 16 << 20
	for _, op := range []string{"}", "]", ")"} {
		p := []byte("\x80\x02(" + strings.Repeat(op, size) + "t.")
		var err error
		got := memtest.Allocated(func() { _, err = Unpickle(p) })
		if err == nil {
			t.Errorf("%q x %d: accepted", op, size)
		}
		if got > 8*size {
			t.Errorf("%q x %d: allocated %d MB for a %d MB input", op, size, got>>20, size>>20)
		}
	}
}
