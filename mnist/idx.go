package mnist

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The IDX format (http://yann.lecun.com/exdb/mnist/, "FILE FORMATS"): a
// 4-byte magic number, two zero bytes, the element type (0x08: unsigned
// byte) and the number of dimensions, then each dimension as a big-endian
// uint32, then the elements, row-major. An image file is 3-dimensional
// (count, rows, columns), a label file 1-dimensional (count).

// idxUbyte is the element type code of unsigned bytes, the only one MNIST
// and Fashion-MNIST use.
const idxUbyte = 0x08

// readIDX reads an IDX file of unsigned bytes from r whose items are
// itemDims (nil for labels, [28 28] for images), holding at most maxCount
// items, and returns its item count and its first n items. Every size is
// checked against the header before memory is allocated (the allocation is
// n items, never what the header claims), and the rest of the file is read
// through so that a file shorter or longer than its header says, or a
// gzip stream whose checksum fails, is refused.
func readIDX(r io.Reader, name string, itemDims []int, maxCount, n int) (int, []byte, error) {
	kind := "label"
	if len(itemDims) > 0 {
		kind = "image"
	}
	var magic [4]byte
	if _, err := io.ReadFull(r, magic[:]); err != nil {
		return 0, nil, fmt.Errorf("mnist: %s: not an IDX %s file: %v", name, kind, short(err))
	}
	if magic[0] != 0 || magic[1] != 0 {
		return 0, nil, fmt.Errorf("mnist: %s: not an IDX file (magic % x, want 00 00 08 %02x)", name, magic, len(itemDims)+1)
	}
	if magic[2] != idxUbyte {
		return 0, nil, fmt.Errorf("mnist: %s: element type 0x%02x, want 0x08 (unsigned bytes)", name, magic[2])
	}
	if int(magic[3]) != len(itemDims)+1 {
		return 0, nil, fmt.Errorf("mnist: %s: %d dimensions, want %d (an IDX %s file)", name, magic[3], len(itemDims)+1, kind)
	}
	dims := make([]uint32, len(itemDims)+1)
	if err := binary.Read(r, binary.BigEndian, dims); err != nil {
		return 0, nil, fmt.Errorf("mnist: %s: truncated header: %v", name, short(err))
	}
	if dims[0] > uint32(maxCount) {
		return 0, nil, fmt.Errorf("mnist: %s: header claims %d %ss, more than the %d of the official file", name, dims[0], kind, maxCount)
	}
	count := int(dims[0])
	item := 1
	for i, d := range itemDims {
		if int64(dims[i+1]) != int64(d) {
			return 0, nil, fmt.Errorf("mnist: %s: %ss of %v, want %v", name, kind, dims[1:], itemDims)
		}
		item *= d
	}
	if n > count {
		return count, nil, nil // the caller reports what is short
	}
	data := make([]byte, n*item)
	if _, err := io.ReadFull(r, data); err != nil {
		return 0, nil, truncated(name, kind, count, err)
	}
	// The rest, read through: the file must hold exactly count items.
	rest := int64(count-n) * int64(item)
	if _, err := io.CopyN(io.Discard, r, rest); err != nil {
		return 0, nil, truncated(name, kind, count, err)
	}
	var one [1]byte
	switch _, err := io.ReadFull(r, one[:]); {
	case err == nil:
		return 0, nil, fmt.Errorf("mnist: %s: longer than the %d %ss its header claims", name, count, kind)
	case err != io.EOF:
		return 0, nil, fmt.Errorf("mnist: %s: %v", name, err)
	}
	return count, data, nil
}

func truncated(name, kind string, count int, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("mnist: %s: truncated: shorter than the %d %ss its header claims", name, count, kind)
	}
	return fmt.Errorf("mnist: %s: %v", name, err)
}

// short words an early end of file.
func short(err error) string {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "file too short"
	}
	return err.Error()
}
