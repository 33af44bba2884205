package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/cifarnet/cifarnet/internal/memtest"
)

// golden is a file written byte by byte from the specification: header
// {"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1,1],"data_offsets":[8,12]}}
// then 1.0, -2.5 and 0.25 as little-endian float32.
func golden() []byte {
	header := `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1,1],"data_offsets":[8,12]}}`
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint64(len(header)))
	b.WriteString(header)
	b.Write([]byte{0x00, 0x00, 0x80, 0x3f}) // 1.0
	b.Write([]byte{0x00, 0x00, 0x20, 0xc0}) // -2.5
	b.Write([]byte{0x00, 0x00, 0x80, 0x3e}) // 0.25
	return b.Bytes()
}

func TestReadGolden(t *testing.T) {
	g := golden()
	f, err := Read(bytes.NewReader(g), int64(len(g)))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := f.Get("a")
	b, _ := f.Get("b")
	if len(a.Data) != 2 || a.Data[0] != 1 || a.Data[1] != -2.5 || b.Data[0] != 0.25 || len(b.Shape) != 2 {
		t.Fatalf("read %+v %+v", a, b)
	}
}

func TestWriteReadRoundTrip(t *testing.T) {
	ts := []Tensor{
		{Name: "dense/kernel", Shape: []int{3, 2}, Data: []float32{1, 2, 3, 4, 5, float32(math.Inf(-1))}},
		{Name: "dense/bias", Shape: []int{2}, Data: []float32{-0, 1e-38}},
		{Name: "empty", Shape: []int{0, 4}, Data: nil},
	}
	var buf bytes.Buffer
	if err := Write(&buf, ts, map[string]string{"seed": "42"}); err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(buf.Bytes())
	if (8+n)%8 != 0 {
		t.Errorf("data starts at %d, not 8-byte aligned", 8+n)
	}
	f, err := Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if f.Metadata["seed"] != "42" {
		t.Errorf("metadata %v", f.Metadata)
	}
	for _, want := range ts {
		got, ok := f.Get(want.Name)
		if !ok || len(got.Data) != len(want.Data) {
			t.Fatalf("%s: %+v", want.Name, got)
		}
		for i := range want.Data {
			if math.Float32bits(got.Data[i]) != math.Float32bits(want.Data[i]) {
				t.Fatalf("%s[%d] = %v, want %v", want.Name, i, got.Data[i], want.Data[i])
			}
		}
	}
}

func withHeader(header string, data int) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint64(len(header)))
	b.WriteString(header)
	b.Write(make([]byte, data))
	return b.Bytes()
}

func TestReadRejects(t *testing.T) {
	huge := make([]byte, 8)
	binary.LittleEndian.PutUint64(huge, 1<<62)
	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"short", []byte{1, 2, 3}, "shorter than"},
		{"header over the limit", append(huge, '{', '}'), "exceeds the 104857600-byte limit"},
		{"header past the end", withHeader(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 4)[:20], "truncated: the header alone is 54 bytes, the file has 12 after"},
		{"not json", withHeader("[1,2]", 0), "does not start with"},
		{"bad json", withHeader("{\"a\":", 0), "header"},
		{"unknown dtype", withHeader(`{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}`, 4), `dtype "F16"`},
		{"shape/offset mismatch", withHeader(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, 8), "needs 12 bytes"},
		{"offsets past data", withHeader(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, 8), "truncated: the header describes 16 data bytes, the file has 8 (71 bytes in all, want 79)"},
		{"gap", withHeader(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8), "gap or overlap"},
		{"overlap", withHeader(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8), "gap or overlap"},
		{"trailing bytes", withHeader(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 8), "cover 4 of the 8"},
		{"huge shape", withHeader(`{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}}`, 8), "invalid shape"},
		{"negative dim", withHeader(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, 4), "invalid shape"},
		{"unknown field", withHeader(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}}`, 4), "unknown field"},
		{"bad metadata", withHeader(`{"__metadata__":{"a":1}}`, 0), "__metadata__"},
	}
	for _, tt := range tests {
		_, err := Read(bytes.NewReader(tt.file), int64(len(tt.file)))
		if err == nil || !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want ErrFormat containing %q", tt.name, err, tt.want)
		}
	}
}

func FuzzRead(f *testing.F) {
	f.Add(golden())
	f.Add(withHeader(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 4))
	f.Add(withHeader(`{"__metadata__":{"k":"v"}}`, 0))
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Read(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		// Whatever parses must survive a round trip unchanged.
		var buf bytes.Buffer
		if err := Write(&buf, file.Tensors, file.Metadata); err != nil {
			t.Fatalf("re-writing a file that parsed: %v", err)
		}
		again, err := Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil || len(again.Tensors) != len(file.Tensors) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// TestErrorsQuoteShortPrefixes: a file naming a tensor with a megabyte of
// characters gets an error of a few hundred bytes.
func TestErrorsQuoteShortPrefixes(t *testing.T) {
	long := strings.Repeat("n", 1<<20)
	for _, header := range []string{
		`{"` + long + `":{"dtype":"F16","shape":[1],"data_offsets":[0,4]}}`,
		`{"t":{"dtype":"` + long + `","shape":[1],"data_offsets":[0,4]}}`,
		`{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"` + long + `":1}}`,
	} {
		var b bytes.Buffer
		binary.Write(&b, binary.LittleEndian, uint64(len(header)))
		b.WriteString(header)
		b.Write(make([]byte, 4))
		_, err := Read(bytes.NewReader(b.Bytes()), int64(b.Len()))
		if err == nil || len(err.Error()) > 400 {
			t.Errorf("error of %d bytes: %.100s", len(fmt.Sprint(err)), err)
		}
	}
}

// TestMemoryBoundedByInput: headers that describe many small things (a
// shape or offsets of millions of numbers, thousands of empty tensors) are
// refused within a few times the file's size; they used to take tens of
// bytes for each byte of header.
func TestMemoryBoundedByInput(t *testing.T) {
	const n = 2 << 20
	zeros := strings.Repeat("0,", n) + "0"
	var many strings.Builder
	many.WriteString("{")
	for i := range 200000 {
		fmt.Fprintf(&many, `"%d":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},`, i)
	}
	many.WriteString(`"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`)
	for _, header := range []string{
		`{"t":{"dtype":"F32","shape":[` + zeros + `],"data_offsets":[0,0]}}`,
		`{"t":{"dtype":"F32","shape":[0],"data_offsets":[` + zeros + `]}}`,
		many.String(),
	} {
		var b bytes.Buffer
		binary.Write(&b, binary.LittleEndian, uint64(len(header)))
		b.WriteString(header)
		b.Write(make([]byte, 4))
		var err error
		got := memtest.Allocated(func() { _, err = Read(bytes.NewReader(b.Bytes()), int64(b.Len())) })
		if err == nil {
			t.Errorf("header of %d bytes accepted", len(header))
		}
		if got > 6*uint64(b.Len()) {
			t.Errorf("allocated %d MB for a %d MB file (%.60s)", got>>20, b.Len()>>20, header)
		}
	}
}

// TestTruncatedErrorIsStable: a truncated file with several tensors gets
// the same error every time, saying it is truncated and by how much, not
// one chosen by map order.
func TestTruncatedErrorIsStable(t *testing.T) {
	var ts []Tensor
	for _, n := range []string{"e", "d", "c", "b", "a"} {
		ts = append(ts, Tensor{Name: n, Shape: []int{64}, Data: make([]float32, 64)})
	}
	var buf bytes.Buffer
	if err := Write(&buf, ts, nil); err != nil {
		t.Fatal(err)
	}
	cut := buf.Bytes()[:buf.Len()-5*64*4+8] // the header and 8 data bytes
	for i := 0; i < 20; i++ {
		_, err := Read(bytes.NewReader(cut), int64(len(cut)))
		want := fmt.Sprintf("truncated: the header describes 1280 data bytes, the file has 8 (%d bytes in all, want %d)", len(cut), buf.Len())
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("try %d: %v, want %q", i, err, want)
		}
	}
}

// BenchmarkWrite writes a checkpoint's worth of tensors (the exercise's
// weights, two optimizer slots and the best weights: about 4 million
// values) to io.Discard.
func BenchmarkWrite(b *testing.B) {
	var ts []Tensor
	for i := range 4 {
		for j, n := range []int{3072 * 256, 256, 256 * 256, 256, 256 * 256, 256, 256 * 256, 256, 256 * 10, 10} {
			ts = append(ts, Tensor{Name: fmt.Sprintf("t%d/%d", i, j), Shape: []int{n}, Data: make([]float32, n)})
		}
	}
	b.SetBytes(4 * 4 * 986634)
	for range b.N {
		if err := Write(io.Discard, ts, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// TestWriteEitherByteOrder: Write gives the same bytes through the
// little-endian copy of the values' memory and through the value-by-value
// encoding a big-endian machine takes, over chunk boundaries and special
// values.
func TestWriteEitherByteOrder(t *testing.T) {
	data := make([]float32, writeChunk/4*2+7)
	for i := range data {
		data[i] = float32(i)*0.37 - 1000
	}
	data[3], data[4], data[5] = float32(math.NaN()), float32(math.Inf(-1)), float32(math.Copysign(0, -1))
	ts := []Tensor{{Name: "a", Shape: []int{3}, Data: data[:3]}, {Name: "b", Shape: []int{len(data)}, Data: data}}
	var got [2]bytes.Buffer
	for i, little := range []bool{true, false} {
		saved := littleEndian
		littleEndian = little
		err := Write(&got[i], ts, map[string]string{"k": "v"})
		littleEndian = saved
		if err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(got[0].Bytes(), got[1].Bytes()) {
		t.Fatal("the two encodings differ")
	}
	back, err := Read(bytes.NewReader(got[0].Bytes()), int64(got[0].Len()))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := back.Get("b")
	for i, v := range b.Data {
		if math.Float32bits(v) != math.Float32bits(data[i]) {
			t.Fatalf("value %d: %g, want %g", i, v, data[i])
		}
	}
}

// TestChecksum: Checksum is the CRC-32C of exactly the data bytes Write
// writes, in order (a NaN's payload and -0 included), both by the
// in-place path of a little-endian machine and by the byte-by-byte one,
// and Read's tensors give it back.
func TestChecksum(t *testing.T) {
	big := make([]float32, writeChunk/4*2+3) // spans the chunks
	for i := range big {
		big[i] = float32(i) * 0.37
	}
	ts := []Tensor{
		{Name: "z", Shape: []int{3}, Data: []float32{1, float32(math.Copysign(0, -1)), math.Float32frombits(0x7fc01234)}},
		{Name: "empty", Shape: []int{0}, Data: nil},
		{Name: "a", Shape: []int{len(big)}, Data: big},
	}
	var b bytes.Buffer
	if err := Write(&b, ts, map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()[b.Len()-4*(3+len(big)):]
	want := crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli))
	if got := Checksum(ts); got != want {
		t.Fatalf("Checksum %08x, the written data's CRC-32C %08x", got, want)
	}
	f, err := Read(bytes.NewReader(b.Bytes()), int64(b.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if got := Checksum(f.Tensors); got != want {
		t.Fatalf("Checksum of the tensors read %08x, want %08x", got, want)
	}
	if littleEndian { // the path of a big-endian machine, here
		littleEndian = false
		got := Checksum(ts)
		littleEndian = true
		if got != want {
			t.Fatalf("Checksum value by value %08x, want %08x", got, want)
		}
	}
	if Checksum(nil) != 0 || Checksum(ts[:1]) == want {
		t.Fatal("Checksum does not depend on the data")
	}
}

// BenchmarkChecksum: the checksum of a checkpoint of the exercise's size
// (its weights, two optimizer slots and the best weights: 4 x 986,634
// values, 15.8 MB), as a backup computes it while training.
func BenchmarkChecksum(b *testing.B) {
	ts := make([]Tensor, 4)
	for i := range ts {
		ts[i] = Tensor{Name: fmt.Sprint(i), Shape: []int{986634}, Data: make([]float32, 986634)}
	}
	b.SetBytes(4 * 4 * 986634)
	for b.Loop() {
		Checksum(ts)
	}
}
