package report

import (
	"bufio"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/png"
	"io"
)

// encodePNG writes img as PNG, losslessly, with zlib's fastest level. An
// opaque *image.RGBA (every figure vgimg draws) is written as 8-bit RGB
// rows, each filtered by None, Sub or Up, whichever has the smallest sum
// of absolute values over every fifth byte; image/png tries all five
// filters on every byte, which cost much of a report's time for files
// hardly smaller (BENCHMARKS.md). Any other image goes to image/png.
func encodePNG(w io.Writer, img image.Image) error {
	m, ok := img.(*image.RGBA)
	if !ok || !opaque(m) || m.Rect.Empty() {
		return (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(w, img)
	}
	width, height := m.Rect.Dx(), m.Rect.Dy()
	e := &pngWriter{w: w}
	e.write([]byte("\x89PNG\r\n\x1a\n"))
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], uint32(width))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(height))
	ihdr[8], ihdr[9] = 8, 2 // 8 bits per sample, truecolour; deflate, adaptive filtering, no interlace
	e.chunk("IHDR", ihdr[:])
	bw := bufio.NewWriterSize(idatWriter{e}, 1<<16)
	zw, err := zlib.NewWriterLevel(bw, zlib.BestSpeed)
	if err != nil {
		return err
	}
	n := 3 * width
	// cur and prev have 2 bytes to spare for rgbRow's wide stores.
	cur, prev := make([]byte, n, n+2), make([]byte, n, n+2) // prev starts as the zero row above the image
	row := make([]byte, 1+n)
	for y := range height {
		rgbRow(cur, m.Pix[m.PixOffset(m.Rect.Min.X, m.Rect.Min.Y+y):][:4*width])
		filterRow(row, cur, prev)
		if _, err := zw.Write(row); err != nil {
			return err
		}
		cur, prev = prev, cur
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	e.chunk("IEND", nil)
	return e.err
}

// PNG's filter types used here.
const (
	filterNone = 0
	filterSub  = 1
	filterUp   = 2
)

// filterRow fills row with the filter type and cur filtered against prev
// (3 bytes a pixel), choosing the filter by the sum of the absolute
// filtered values (as signed bytes) over every fifth byte: libpng's
// heuristic, sampled.
func filterRow(row, cur, prev []byte) {
	n := len(cur)
	var none, sub, up int
	for i := 3; i < n; i += 5 {
		c := cur[i]
		none += absByte(c)
		sub += absByte(c - cur[i-3])
		up += absByte(c - prev[i])
	}
	f, best := filterNone, none
	if sub < best {
		f, best = filterSub, sub
	}
	if up < best {
		f = filterUp
	}
	row[0] = byte(f)
	out := row[1 : 1+n]
	switch f {
	case filterNone:
		copy(out, cur)
	case filterSub:
		copy(out[:min(3, n)], cur)
		subRows(out[min(3, n):], cur[min(3, n):], cur)
	case filterUp:
		subRows(out, cur, prev[:n])
	}
}

// subRows sets out[i] = a[i] - b[i] (mod 256) for every byte of a, eight
// bytes at a time; b is at least as long as a.
func subRows(out, a, b []byte) {
	i := 0
	for ; i+8 <= len(a); i += 8 {
		binary.LittleEndian.PutUint64(out[i:], subBytes(binary.LittleEndian.Uint64(a[i:]), binary.LittleEndian.Uint64(b[i:])))
	}
	for ; i < len(a); i++ {
		out[i] = a[i] - b[i]
	}
}

// subBytes subtracts each byte of b from the same byte of a, mod 256, no
// borrow crossing between bytes (Hacker's Delight, 2-18).
func subBytes(a, b uint64) uint64 {
	const h = 0x8080808080808080
	return ((a | h) - (b &^ h)) ^ ((a ^ ^b) & h)
}

// rgbRow copies the red, green and blue bytes of the RGBA pixels pix into
// cur, which has 2 bytes to spare past 3*len(pix)/4: two pixels are
// stored as 8 bytes at a time, the last 2 overwritten by the next store.
func rgbRow(cur, pix []byte) {
	i, j := 0, 0
	for ; i+8 <= len(pix); i, j = i+8, j+6 {
		v := binary.LittleEndian.Uint64(pix[i:])
		binary.LittleEndian.PutUint64(cur[j:j+8], v&0xffffff|v>>8&0xffffff000000)
	}
	for ; i < len(pix); i, j = i+4, j+3 {
		cur[j], cur[j+1], cur[j+2] = pix[i], pix[i+1], pix[i+2]
	}
}

// absByte is |b| with b read as a signed byte.
func absByte(b byte) int {
	x := int(int8(b))
	if x < 0 {
		return -x
	}
	return x
}

// opaque reports every pixel of m fully opaque (PNG's RGB then holds it).
func opaque(m *image.RGBA) bool {
	const alphas = 0xff000000ff000000 // of two pixels
	w := m.Rect.Dx()
	for y := m.Rect.Min.Y; y < m.Rect.Max.Y; y++ {
		pix := m.Pix[m.PixOffset(m.Rect.Min.X, y):][:4*w]
		all := uint64(alphas) // the AND of the row's pairs of pixels, eight bytes at a time
		i := 0
		for ; i+8 <= len(pix); i += 8 {
			all &= binary.LittleEndian.Uint64(pix[i:])
		}
		if all&alphas != alphas || i < len(pix) && pix[i+3] != 0xff {
			return false
		}
	}
	return true
}

// pngWriter writes PNG chunks, keeping the first error.
type pngWriter struct {
	w   io.Writer
	err error
}

func (e *pngWriter) write(b []byte) {
	if e.err == nil {
		_, e.err = e.w.Write(b)
	}
}

// chunk writes one chunk: length, type, data, CRC of type and data.
func (e *pngWriter) chunk(typ string, data []byte) {
	var head [8]byte
	binary.BigEndian.PutUint32(head[:4], uint32(len(data)))
	copy(head[4:], typ)
	crc := crc32.NewIEEE()
	crc.Write(head[4:])
	crc.Write(data)
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], crc.Sum32())
	e.write(head[:])
	e.write(data)
	e.write(sum[:])
}

// idatWriter writes each buffer of zlib's output as an IDAT chunk.
type idatWriter struct{ e *pngWriter }

func (d idatWriter) Write(b []byte) (int, error) {
	d.e.chunk("IDAT", b)
	return len(b), d.e.err
}
