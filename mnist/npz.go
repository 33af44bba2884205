package mnist

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Keras's mnist.npz is a zip archive (numpy.savez_compressed) of four .npy
// arrays: x_train (60000, 28, 28), y_train (60000,), x_test (10000, 28, 28)
// and y_test (10000,), all uint8. The .npy format
// (numpy/lib/format.py): the magic "\x93NUMPY", a major and minor version
// byte, the header's length (uint16 little-endian in version 1, uint32 in 2
// and 3), and the header, a Python dict literal such as
// {'descr': '|u1', 'fortran_order': False, 'shape': (60000, 28, 28), }
// padded with spaces and a newline; then the array's bytes. Only uint8
// arrays are read: an object array ('|O') would be a pickle, which is never
// unpickled.

const (
	npyMagic = "\x93NUMPY"
	// maxNpyHeader bounds the header: numpy writes well under 200 bytes.
	maxNpyHeader = 4096
)

// npyHeader is what a .npy header says.
type npyHeader struct {
	descr        string
	fortranOrder bool
	shape        []int64
}

// readNpyHeader reads the magic, version and header of a .npy stream.
func readNpyHeader(r io.Reader) (npyHeader, int64, error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return npyHeader{}, 0, fmt.Errorf("not a .npy array: %s", short(err))
	}
	if string(pre[:6]) != npyMagic {
		return npyHeader{}, 0, fmt.Errorf("not a .npy array (magic %q)", pre[:6])
	}
	var hlen int64
	switch pre[6] {
	case 1:
		var n uint16
		if err := binary.Read(r, binary.LittleEndian, &n); err != nil {
			return npyHeader{}, 0, fmt.Errorf("truncated .npy header")
		}
		hlen = int64(n)
	case 2, 3:
		var n uint32
		if err := binary.Read(r, binary.LittleEndian, &n); err != nil {
			return npyHeader{}, 0, fmt.Errorf("truncated .npy header")
		}
		hlen = int64(n)
	default:
		return npyHeader{}, 0, fmt.Errorf(".npy format version %d.%d, want 1.0, 2.0 or 3.0", pre[6], pre[7])
	}
	if hlen > maxNpyHeader {
		return npyHeader{}, 0, fmt.Errorf(".npy header of %d bytes, more than %d", hlen, maxNpyHeader)
	}
	b := make([]byte, hlen)
	if _, err := io.ReadFull(r, b); err != nil {
		return npyHeader{}, 0, fmt.Errorf("truncated .npy header")
	}
	h, err := parseNpyHeader(string(b))
	if err != nil {
		return npyHeader{}, 0, fmt.Errorf(".npy header %q: %v", strings.TrimSpace(string(b)), err)
	}
	size := int64(len(pre)) + 2 + hlen
	if pre[6] > 1 {
		size += 2
	}
	return h, size, nil
}

// parseNpyHeader parses the dict literal numpy writes: exactly the keys
// descr (a string), fortran_order (True or False) and shape (a tuple of
// non-negative integers), in any order, and nothing else.
func parseNpyHeader(s string) (npyHeader, error) {
	p := &lit{s: strings.TrimRight(s, " \n")}
	var h npyHeader
	seen := map[string]bool{}
	if !p.eat("{") {
		return h, errors.New("not a dict")
	}
	for !p.eat("}") {
		key, err := p.str()
		if err != nil {
			return h, err
		}
		if seen[key] {
			return h, fmt.Errorf("key %q twice", key)
		}
		seen[key] = true
		if !p.eat(":") {
			return h, fmt.Errorf("no ':' after %q", key)
		}
		switch key {
		case "descr":
			if h.descr, err = p.str(); err != nil {
				return h, err
			}
		case "fortran_order":
			switch {
			case p.eat("True"):
				h.fortranOrder = true
			case p.eat("False"):
			default:
				return h, errors.New("fortran_order is not True or False")
			}
		case "shape":
			if h.shape, err = p.tuple(); err != nil {
				return h, err
			}
		default:
			return h, fmt.Errorf("unexpected key %q", key)
		}
		if !p.eat(",") && !p.peek("}") {
			return h, errors.New("expected ',' or '}'")
		}
	}
	if p.s != "" {
		return h, fmt.Errorf("trailing %q", p.s)
	}
	if !seen["descr"] || !seen["fortran_order"] || !seen["shape"] {
		return h, errors.New("want the keys descr, fortran_order and shape")
	}
	return h, nil
}

// lit is a cursor over a Python literal.
type lit struct{ s string }

func (p *lit) skip()              { p.s = strings.TrimLeft(p.s, " ") }
func (p *lit) peek(t string) bool { p.skip(); return strings.HasPrefix(p.s, t) }
func (p *lit) eat(t string) bool {
	if p.peek(t) {
		p.s = p.s[len(t):]
		return true
	}
	return false
}

func (p *lit) str() (string, error) {
	p.skip()
	if p.s == "" || (p.s[0] != '\'' && p.s[0] != '"') {
		return "", errors.New("expected a quoted string")
	}
	q := p.s[0]
	end := strings.IndexByte(p.s[1:], q)
	if end < 0 || strings.ContainsRune(p.s[1:1+end], '\\') {
		return "", errors.New("bad string")
	}
	v := p.s[1 : 1+end]
	p.s = p.s[2+end:]
	return v, nil
}

func (p *lit) tuple() ([]int64, error) {
	if !p.eat("(") {
		return nil, errors.New("shape is not a tuple")
	}
	var out []int64
	for !p.eat(")") {
		p.skip()
		i := strings.IndexFunc(p.s, func(r rune) bool { return r < '0' || r > '9' })
		if i <= 0 {
			return nil, errors.New("shape holds a non-integer")
		}
		v, err := strconv.ParseInt(p.s[:i], 10, 64)
		if err != nil || len(out) == 8 {
			return nil, errors.New("shape out of range")
		}
		out = append(out, v)
		p.s = p.s[i:]
		if !p.eat(",") && !p.peek(")") {
			return nil, errors.New("expected ',' or ')' in shape")
		}
	}
	return out, nil
}

// npzArray reads member name of an open npz: a uint8 array of shape
// (count, itemDims...) with count at most maxCount; it returns the count
// and the first n items (nil when n > count), and reads the rest through
// so that the zip's CRC is checked.
func npzArray(z *zip.Reader, archive, member string, itemDims []int, maxCount, n int) (int, []byte, error) {
	where := archive + ":" + member
	var f *zip.File
	for _, zf := range z.File {
		if zf.Name == member {
			if f != nil {
				return 0, nil, fmt.Errorf("mnist: %s: twice in the archive", where)
			}
			f = zf
		}
	}
	if f == nil {
		return 0, nil, fmt.Errorf("mnist: %s: no such array in the .npz (want x_train, y_train, x_test, y_test)", where)
	}
	rc, err := f.Open()
	if err != nil {
		return 0, nil, fmt.Errorf("mnist: %s: %v", where, err)
	}
	defer rc.Close()
	h, hsize, err := readNpyHeader(rc)
	if err != nil {
		return 0, nil, fmt.Errorf("mnist: %s: %v", where, err)
	}
	if h.descr != "|u1" && h.descr != "<u1" && h.descr != ">u1" {
		return 0, nil, fmt.Errorf("mnist: %s: dtype %q, want uint8 ('|u1'); other types, and pickled objects above all, are not read", where, h.descr)
	}
	if h.fortranOrder {
		return 0, nil, fmt.Errorf("mnist: %s: Fortran order, want C order", where)
	}
	want := append([]int64{-1}, make([]int64, len(itemDims))...)
	for i, d := range itemDims {
		want[i+1] = int64(d)
	}
	ok := len(h.shape) == len(want)
	for i := 1; ok && i < len(want); i++ {
		ok = h.shape[i] == want[i]
	}
	if !ok {
		return 0, nil, fmt.Errorf("mnist: %s: shape %v, want (N, %v)", where, h.shape, itemDims)
	}
	if h.shape[0] > int64(maxCount) {
		return 0, nil, fmt.Errorf("mnist: %s: shape claims %d items, more than the %d of the official file", where, h.shape[0], maxCount)
	}
	count := int(h.shape[0])
	item := 1
	for _, d := range itemDims {
		item *= d
	}
	if f.UncompressedSize64 != uint64(hsize)+uint64(count*item) {
		return 0, nil, fmt.Errorf("mnist: %s: %d bytes, want %d for shape %v", where, f.UncompressedSize64, hsize+int64(count*item), h.shape)
	}
	if n > count {
		return count, nil, nil
	}
	data := make([]byte, n*item)
	if _, err := io.ReadFull(rc, data); err != nil {
		return 0, nil, fmt.Errorf("mnist: %s: corrupt: %v", where, err)
	}
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return 0, nil, fmt.Errorf("mnist: %s: corrupt: %v", where, err)
	}
	return count, data, nil
}

// isZip reports whether b starts like a zip archive.
func isZip(b []byte) bool { return bytes.HasPrefix(b, []byte("PK\x03\x04")) }
