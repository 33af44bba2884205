// Package safetensors reads and writes the safetensors format
// (https://github.com/huggingface/safetensors) for float32 tensors:
//
//	8 bytes     little-endian uint64 N, the header length
//	N bytes     JSON header: {"name": {"dtype": "F32", "shape": [...],
//	            "data_offsets": [begin, end]}, ..., "__metadata__": {...}}
//	rest        the tensors' raw little-endian bytes, offsets relative to here
//
// The reader is strict: it refuses anything the specification does not
// allow (unknown dtypes, shapes that disagree with offsets, overlapping or
// gapped data, a header past the end of the file) and never allocates more
// than the file's own size.
package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"

	"github.com/cifarnet/cifarnet/internal/quote"
)

// MaxHeader bounds the JSON header, as the reference implementation does.
const MaxHeader = 100 << 20

// Tensor is one named float32 tensor.
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
}

type entry struct {
	Dtype       string  `json:"dtype"`
	Shape       []int64 `json:"shape"`
	DataOffsets []int64 `json:"data_offsets"`
}

// Write writes tensors, in the given order, and string metadata to w.
func Write(w io.Writer, tensors []Tensor, metadata map[string]string) error {
	header := make(map[string]any, len(tensors)+1)
	if len(metadata) > 0 {
		header["__metadata__"] = metadata
	}
	var off int64
	for _, t := range tensors {
		if t.Name == "" || t.Name == "__metadata__" {
			return fmt.Errorf("safetensors: invalid tensor name %q", t.Name)
		}
		if _, dup := header[t.Name]; dup {
			return fmt.Errorf("safetensors: duplicate tensor %q", t.Name)
		}
		if n := elements(t.Shape); n != int64(len(t.Data)) {
			return fmt.Errorf("safetensors: %s: shape %v holds %d values, data has %d", t.Name, t.Shape, n, len(t.Data))
		}
		shape := make([]int64, len(t.Shape))
		for i, d := range t.Shape {
			shape[i] = int64(d)
		}
		size := 4 * int64(len(t.Data))
		header[t.Name] = entry{"F32", shape, []int64{off, off + size}}
		off += size
	}
	js, err := json.Marshal(header)
	if err != nil {
		return err
	}
	// Pad the header with spaces so the data starts 8-byte aligned, as the
	// reference writer does.
	for len(js)%8 != 0 {
		js = append(js, ' ')
	}
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(js)))
	buf := bytes.NewBuffer(make([]byte, 0, 8+len(js)+int(off)))
	buf.Write(n[:])
	buf.Write(js)
	var b [4]byte
	for _, t := range tensors {
		for _, v := range t.Data {
			binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
			buf.Write(b[:])
		}
	}
	_, err = w.Write(buf.Bytes())
	return err
}

func elements(shape []int) int64 {
	n := int64(1)
	for _, d := range shape {
		if d < 0 {
			return -1
		}
		n *= int64(d)
	}
	return n
}

// File is a parsed safetensors file.
type File struct {
	Tensors  []Tensor // in order of their data offsets
	Metadata map[string]string
}

// Get returns the tensor of the given name.
func (f *File) Get(name string) (Tensor, bool) {
	for _, t := range f.Tensors {
		if t.Name == name {
			return t, true
		}
	}
	return Tensor{}, false
}

// ErrFormat is wrapped by every error about a malformed file.
var ErrFormat = errors.New("not a valid safetensors file")

func formatErr(format string, args ...any) error {
	// Names and values come from the file: the message keeps a prefix.
	return fmt.Errorf("%w: %s", ErrFormat, quote.Line(fmt.Sprintf(format, args...), 4*quote.Max))
}

// Read parses a whole safetensors file of the given size from r. Only F32
// tensors are accepted.
func Read(r io.Reader, size int64) (*File, error) {
	if size < 8 {
		return nil, formatErr("%d bytes, shorter than the 8-byte header length", size)
	}
	var nb [8]byte
	if _, err := io.ReadFull(r, nb[:]); err != nil {
		return nil, formatErr("reading the header length: %v", err)
	}
	n := binary.LittleEndian.Uint64(nb[:])
	if n > MaxHeader || n > uint64(size-8) {
		return nil, formatErr("header length %d exceeds the file (%d bytes) or the %d-byte limit", n, size, MaxHeader)
	}
	hb := make([]byte, n)
	if _, err := io.ReadFull(r, hb); err != nil {
		return nil, formatErr("reading the header: %v", err)
	}
	if len(hb) == 0 || hb[0] != '{' {
		return nil, formatErr("header does not start with '{'")
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(hb, &raw); err != nil {
		return nil, formatErr("header: %v", err)
	}
	f := &File{}
	dataLen := size - 8 - int64(n)
	type span struct {
		name       string
		shape      []int
		begin, end int64
	}
	var spans []span
	for name, msg := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(msg, &f.Metadata); err != nil {
				return nil, formatErr("__metadata__ must map strings to strings: %v", err)
			}
			continue
		}
		var e entry
		dec := json.NewDecoder(bytes.NewReader(msg))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return nil, formatErr("tensor %s: %v", quote.Short(name), err)
		}
		if e.Dtype != "F32" {
			return nil, formatErr("tensor %s: dtype %s, only F32 is supported", quote.Short(name), quote.Short(e.Dtype))
		}
		if len(e.DataOffsets) != 2 || e.DataOffsets[0] < 0 || e.DataOffsets[1] < e.DataOffsets[0] || e.DataOffsets[1] > dataLen {
			return nil, formatErr("tensor %s: data_offsets %v outside the %d data bytes", quote.Short(name), e.DataOffsets, dataLen)
		}
		count := int64(1)
		shape := make([]int, len(e.Shape))
		for i, d := range e.Shape {
			if d < 0 || (count > 0 && d > dataLen) {
				return nil, formatErr("tensor %s: invalid shape %v", quote.Short(name), e.Shape)
			}
			count *= d
			shape[i] = int(d)
		}
		if count*4 != e.DataOffsets[1]-e.DataOffsets[0] {
			return nil, formatErr("tensor %s: shape %v needs %d bytes, data_offsets span %d", quote.Short(name), e.Shape, count*4, e.DataOffsets[1]-e.DataOffsets[0])
		}
		spans = append(spans, span{name, shape, e.DataOffsets[0], e.DataOffsets[1]})
	}
	sort.Slice(spans, func(i, j int) bool {
		return spans[i].begin < spans[j].begin || spans[i].begin == spans[j].begin && spans[i].end < spans[j].end
	})
	// The data must be covered exactly: no holes, no overlaps.
	var at int64
	for _, s := range spans {
		if s.begin != at {
			return nil, formatErr("tensor %s: data starts at %d, want %d (gap or overlap)", quote.Short(s.name), s.begin, at)
		}
		at = s.end
	}
	if at != dataLen {
		return nil, formatErr("tensors cover %d of the %d data bytes", at, dataLen)
	}
	data := make([]byte, dataLen)
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, formatErr("reading the data: %v", err)
	}
	for _, s := range spans {
		vals := make([]float32, (s.end-s.begin)/4)
		for i := range vals {
			vals[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[s.begin+4*int64(i):]))
		}
		f.Tensors = append(f.Tensors, Tensor{Name: s.name, Shape: slices.Clone(s.shape), Data: vals})
	}
	return f, nil
}
