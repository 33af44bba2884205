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
	"hash/crc32"
	"io"
	"maps"
	"math"
	"slices"
	"sort"
	"unsafe"

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
	Dtype       string      `json:"dtype"`
	Shape       shapeJSON   `json:"shape"`
	DataOffsets offsetsJSON `json:"data_offsets"`
}

// decodeEntry decodes a tensor's entry, refusing fields the format does
// not have (without json.Decoder, whose buffer would take several times
// the entry's size).
func decodeEntry(msg []byte, e *entry) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(msg, &fields); err != nil {
		return err
	}
	for k := range fields {
		if k != "dtype" && k != "shape" && k != "data_offsets" {
			return fmt.Errorf("unknown field %s", quote.Short(k))
		}
	}
	return json.Unmarshal(msg, e)
}

// shapeJSON is a shape that refuses more than MaxRank dimensions before
// decoding them: a header's shape of millions of zeros is refused, not
// held.
type shapeJSON []int64

func (s *shapeJSON) UnmarshalJSON(b []byte) error {
	return smallInts(b, MaxRank, "dimensions", (*[]int64)(s))
}

// offsetsJSON is a tensor's data_offsets, two numbers.
type offsetsJSON []int64

func (o *offsetsJSON) UnmarshalJSON(b []byte) error {
	return smallInts(b, 2, "data offsets", (*[]int64)(o))
}

// smallInts decodes a JSON array of at most max integers, counting its
// elements before decoding them.
func smallInts(b []byte, max int, what string, dst *[]int64) error {
	if bytes.Count(b, []byte(",")) >= max {
		return fmt.Errorf("more than %d %s", max, what)
	}
	return json.Unmarshal(b, dst)
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
		header[t.Name] = entry{"F32", shapeJSON(shape), offsetsJSON{off, off + size}}
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
	// The data goes out in chunks, never as one buffer of the whole file:
	// a checkpoint is tens of megabytes and is written while training.
	buf := make([]byte, 0, writeChunk)
	buf = binary.LittleEndian.AppendUint64(buf, uint64(len(js)))
	buf = append(buf, js...)
	for _, t := range tensors {
		for data := t.Data; len(data) > 0; {
			if len(buf)+4 > cap(buf) {
				if _, err := w.Write(buf); err != nil {
					return err
				}
				buf = buf[:0]
			}
			n := min(len(data), (cap(buf)-len(buf))/4)
			buf = appendLittleEndian(buf, data[:n])
			data = data[n:]
		}
	}
	_, err = w.Write(buf)
	return err
}

// appendLittleEndian appends the values' little-endian bytes to buf, which
// has room for them: one copy of their memory on a little-endian machine
// (a checkpoint is millions of values, written while training), one value
// at a time elsewhere.
func appendLittleEndian(buf []byte, data []float32) []byte {
	if littleEndian {
		return append(buf, unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(data))), 4*len(data))...)
	}
	for _, v := range data {
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
	}
	return buf
}

// Checksum returns the CRC-32C (Castagnoli) of the tensors' data exactly
// as Write writes it: each tensor's little-endian bytes, in the given
// order, which is also the order Read returns them in. On a little-endian
// machine the values' memory is hashed in place, with no copy (a
// checkpoint is millions of values, checksummed while training).
func Checksum(tensors []Tensor) uint32 {
	var crc uint32
	var buf []byte
	for _, t := range tensors {
		if littleEndian {
			crc = crc32.Update(crc, castagnoli, unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(t.Data))), 4*len(t.Data)))
			continue
		}
		if buf == nil {
			buf = make([]byte, 0, writeChunk)
		}
		for data := t.Data; len(data) > 0; {
			n := min(len(data), cap(buf)/4)
			crc = crc32.Update(crc, castagnoli, appendLittleEndian(buf[:0], data[:n]))
			data = data[n:]
		}
	}
	return crc
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// littleEndian reports whether this machine stores a float32's bytes in
// the file's order.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// writeChunk is the size of Write's buffer.
const writeChunk = 256 << 10

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
	index    map[string]int
}

// Get returns the tensor of the given name.
func (f *File) Get(name string) (Tensor, bool) {
	if f.index == nil {
		f.index = make(map[string]int, len(f.Tensors))
		for i, t := range f.Tensors {
			f.index[t.Name] = i
		}
	}
	i, ok := f.index[name]
	if !ok {
		return Tensor{}, false
	}
	return f.Tensors[i], true
}

// Limits of what a file may describe, far above any model cifarnet makes:
// a crafted header of a few megabytes must not take gigabytes to hold.
const (
	MaxTensors = 1 << 14
	MaxRank    = 8
)

// Spec describes one tensor of a header: its name, shape and where its
// bytes lie, relative to the start of the data.
type Spec struct {
	Name       string
	Shape      []int
	Begin, End int64
}

// Header is a parsed and checked safetensors header: every tensor's bytes
// lie within the file, and the tensors cover the data exactly.
type Header struct {
	Specs    []Spec // in order of their data offsets
	Metadata map[string]string
	DataLen  int64
}

// Spec returns the tensor of the given name.
func (h *Header) Spec(name string) (Spec, bool) {
	for _, s := range h.Specs {
		if s.Name == name {
			return s, true
		}
	}
	return Spec{}, false
}

// ErrFormat is wrapped by every error about a malformed file.
var ErrFormat = errors.New("not a valid safetensors file")

func formatErr(format string, args ...any) error {
	// Names and values come from the file: the message keeps a prefix.
	return fmt.Errorf("%w: %s", ErrFormat, quote.Line(fmt.Sprintf(format, args...), 4*quote.Max))
}

// Read parses a whole safetensors file of the given size from r. Only F32
// tensors are accepted. It allocates what the file holds, once.
func Read(r io.Reader, size int64) (*File, error) {
	h, err := ReadHeader(r, size)
	if err != nil {
		return nil, err
	}
	f := &File{Metadata: h.Metadata}
	for _, s := range h.Specs {
		f.Tensors = append(f.Tensors, Tensor{Name: s.Name, Shape: slices.Clone(s.Shape), Data: make([]float32, (s.End-s.Begin)/4)})
	}
	dst := make([][]float32, len(f.Tensors))
	for i := range f.Tensors {
		dst[i] = f.Tensors[i].Data
	}
	if err := h.ReadData(r, dst); err != nil {
		return nil, err
	}
	return f, nil
}

// ReadData reads the data that follows h from r into dst, one slice per
// tensor in the order of h.Specs, each of the tensor's length.
func (h *Header) ReadData(r io.Reader, dst [][]float32) error {
	if len(dst) != len(h.Specs) {
		return fmt.Errorf("safetensors: %d destinations for %d tensors", len(dst), len(h.Specs))
	}
	buf := make([]byte, 64<<10)
	for i, s := range h.Specs {
		d := dst[i]
		if int64(len(d))*4 != s.End-s.Begin {
			return fmt.Errorf("safetensors: tensor %s: destination of %d values for %d bytes", quote.Short(s.Name), len(d), s.End-s.Begin)
		}
		for len(d) > 0 {
			n := min(len(d), len(buf)/4)
			if _, err := io.ReadFull(r, buf[:4*n]); err != nil {
				return formatErr("reading the data of tensor %s: %v", quote.Short(s.Name), err)
			}
			for j := range n {
				d[j] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*j:]))
			}
			d = d[n:]
		}
	}
	return nil
}

// describedData is the end of the furthest well-formed data_offsets of
// the header's tensors: the data length the header describes, whatever
// else is wrong with it.
func describedData(raw map[string]json.RawMessage) int64 {
	var end int64
	for name, msg := range raw {
		var e entry
		if name == "__metadata__" || decodeEntry(msg, &e) != nil || len(e.DataOffsets) != 2 {
			continue
		}
		if b, f := e.DataOffsets[0], e.DataOffsets[1]; b >= 0 && f >= b {
			end = max(end, f)
		}
	}
	return end
}

// ReadHeader reads and checks the header of a safetensors file of the
// given size from r, leaving r at the start of the data. Nothing it
// allocates is larger than the header itself.
func ReadHeader(r io.Reader, size int64) (*Header, error) {
	if size < 8 {
		return nil, formatErr("%d bytes, shorter than the 8-byte header length", size)
	}
	var nb [8]byte
	if _, err := io.ReadFull(r, nb[:]); err != nil {
		return nil, formatErr("reading the header length: %v", err)
	}
	n := binary.LittleEndian.Uint64(nb[:])
	if n > MaxHeader {
		return nil, formatErr("header length %d exceeds the %d-byte limit", n, MaxHeader)
	}
	if n > uint64(size-8) {
		return nil, formatErr("truncated: the header alone is %d bytes, the file has %d after its 8-byte length", n, size-8)
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
	if len(raw) > MaxTensors+1 {
		return nil, formatErr("%d tensors, more than the %d allowed", len(raw)-1, MaxTensors)
	}
	h := &Header{DataLen: size - 8 - int64(n)}
	dataLen := h.DataLen
	if want := describedData(raw); want > dataLen {
		return nil, formatErr("truncated: the header describes %d data bytes, the file has %d (%d bytes in all, want %d)",
			want, dataLen, size, size-dataLen+want)
	}
	// In name order, so that a broken file always gets the same error.
	for _, name := range slices.Sorted(maps.Keys(raw)) {
		msg := raw[name]
		if name == "__metadata__" {
			if err := json.Unmarshal(msg, &h.Metadata); err != nil {
				return nil, formatErr("__metadata__ must map strings to strings: %v", err)
			}
			continue
		}
		var e entry
		if err := decodeEntry(msg, &e); err != nil {
			return nil, formatErr("tensor %s: %v", quote.Short(name), err)
		}
		if e.Dtype != "F32" {
			return nil, formatErr("tensor %s: dtype %s, only F32 is supported", quote.Short(name), quote.Short(e.Dtype))
		}
		if len(e.DataOffsets) != 2 || e.DataOffsets[0] < 0 || e.DataOffsets[1] < e.DataOffsets[0] || e.DataOffsets[1] > dataLen {
			return nil, formatErr("tensor %s: data_offsets %v outside the %d data bytes", quote.Short(name), e.DataOffsets, dataLen)
		}
		if len(e.Shape) > MaxRank {
			return nil, formatErr("tensor %s: %d dimensions, more than the %d allowed", quote.Short(name), len(e.Shape), MaxRank)
		}
		count := int64(1)
		shape := make([]int, len(e.Shape))
		for i, d := range e.Shape {
			// count stays at most dataLen, so the product cannot overflow.
			if d < 0 || d > 0 && count > dataLen/d {
				return nil, formatErr("tensor %s: invalid shape %v", quote.Short(name), e.Shape)
			}
			count *= d
			shape[i] = int(d)
		}
		if count*4 != e.DataOffsets[1]-e.DataOffsets[0] {
			return nil, formatErr("tensor %s: shape %v needs %d bytes, data_offsets span %d", quote.Short(name), e.Shape, count*4, e.DataOffsets[1]-e.DataOffsets[0])
		}
		h.Specs = append(h.Specs, Spec{name, shape, e.DataOffsets[0], e.DataOffsets[1]})
	}
	sort.Slice(h.Specs, func(i, j int) bool {
		a, b := h.Specs[i], h.Specs[j]
		return a.Begin < b.Begin || a.Begin == b.Begin && a.End < b.End
	})
	// The data must be covered exactly: no holes, no overlaps.
	var at int64
	for _, s := range h.Specs {
		if s.Begin != at {
			return nil, formatErr("tensor %s: data starts at %d, want %d (gap or overlap)", quote.Short(s.Name), s.Begin, at)
		}
		at = s.End
	}
	if at != dataLen {
		return nil, formatErr("tensors cover %d of the %d data bytes", at, dataLen)
	}
	return h, nil
}
