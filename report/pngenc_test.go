package report

import (
	"bytes"
	"compress/zlib"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/rand/v2"
	"testing"
)

// TestEncodePNG decodes what encodePNG wrote with image/png and wants
// every pixel back: images of every filter's favourite content (noise,
// horizontal gradients, repeated rows, flat), widths 1 to 3 pixels and
// a sub-image with an offset origin; images it hands to image/png (not
// opaque, not RGBA) as well.
func TestEncodePNG(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	fill := func(w, h int, f func(x, y, c int) uint8) *image.RGBA {
		m := image.NewRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				for c := range 3 {
					m.Pix[m.PixOffset(x, y)+c] = f(x, y, c)
				}
				m.Pix[m.PixOffset(x, y)+3] = 255
			}
		}
		return m
	}
	noise := func(x, y, c int) uint8 { return uint8(rng.IntN(256)) }
	cases := map[string]image.Image{
		"noise":    fill(37, 23, noise),
		"gradient": fill(300, 40, func(x, y, c int) uint8 { return uint8(x*3 + c*50 + y/7) }),
		"rows":     fill(120, 50, func(x, y, c int) uint8 { return uint8(x*x + c) }),
		"flat":     fill(64, 64, func(x, y, c int) uint8 { return 200 }),
		"1 wide":   fill(1, 9, noise),
		"2 wide":   fill(2, 5, noise),
		"3 wide":   fill(3, 4, noise),
		"sub":      fill(90, 70, noise).SubImage(image.Rect(13, 7, 61, 50)),
	}
	translucent := fill(20, 10, noise)
	translucent.Pix[3] = 128
	cases["translucent"] = translucent
	gray := image.NewGray(image.Rect(0, 0, 17, 9))
	for i := range gray.Pix {
		gray.Pix[i] = uint8(rng.IntN(256))
	}
	cases["gray"] = gray
	filters := map[byte]bool{}
	for name, img := range cases {
		var b bytes.Buffer
		if err := encodePNG(&b, img); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := png.Decode(bytes.NewReader(b.Bytes()))
		if err != nil {
			t.Fatalf("%s: image/png cannot read it: %v", name, err)
		}
		if got.Bounds().Size() != img.Bounds().Size() {
			t.Fatalf("%s: %v, want %v", name, got.Bounds(), img.Bounds())
		}
		for y := range img.Bounds().Dy() {
			for x := range img.Bounds().Dx() {
				g := color.NRGBAModel.Convert(got.At(x, y))
				w := color.NRGBAModel.Convert(img.At(img.Bounds().Min.X+x, img.Bounds().Min.Y+y))
				if g != w {
					t.Fatalf("%s: pixel (%d, %d) is %v, want %v", name, x, y, g, w)
				}
			}
		}
		if m, ok := img.(*image.RGBA); ok && opaque(m) {
			for _, f := range rowFilters(t, b.Bytes(), img.Bounds().Dx(), img.Bounds().Dy()) {
				filters[f] = true
			}
		}
	}
	if !filters[filterNone] || !filters[filterSub] || !filters[filterUp] {
		t.Errorf("filters used %v: want None, Sub and Up each somewhere", filters)
	}
}

// rowFilters reads the filter type of each row of an 8-bit RGB PNG.
func rowFilters(t *testing.T, file []byte, w, h int) []byte {
	t.Helper()
	var data bytes.Buffer
	for p := 8; p+8 <= len(file); {
		n := int(file[p])<<24 | int(file[p+1])<<16 | int(file[p+2])<<8 | int(file[p+3])
		if string(file[p+4:p+8]) == "IDAT" {
			data.Write(file[p+8 : p+8+n])
		}
		p += 12 + n
	}
	raw := inflate(t, data.Bytes())
	if len(raw) != h*(1+3*w) {
		t.Fatalf("%d bytes of rows, want %d", len(raw), h*(1+3*w))
	}
	var f []byte
	for y := range h {
		f = append(f, raw[y*(1+3*w)])
	}
	return f
}

func inflate(t *testing.T, z []byte) []byte {
	t.Helper()
	r, err := zlib.NewReader(bytes.NewReader(z))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFilterRowBytewise wants filterRow's and rgbRow's wide loops to give
// the bytes of plain byte-at-a-time loops, on rows of every length up to
// a few words, for each filter.
func TestFilterRowBytewise(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	seen := map[byte]bool{}
	for width := range 40 {
		n := 3 * width
		for k := range 30 {
			pix := make([]byte, 4*width)
			for i := range pix {
				pix[i] = uint8(rng.IntN(256))
			}
			cur, prev := make([]byte, n, n+2), make([]byte, n)
			rgbRow(cur, pix)
			for p := range width {
				if cur[3*p] != pix[4*p] || cur[3*p+1] != pix[4*p+1] || cur[3*p+2] != pix[4*p+2] {
					t.Fatalf("width %d: rgbRow's pixel %d is %v, want %v", width, p, cur[3*p:3*p+3], pix[4*p:4*p+3])
				}
			}
			for i := range prev {
				prev[i] = uint8(rng.IntN(256))
				if k%3 == 1 { // a row like the one above: Up
					prev[i] = cur[i] + uint8(rng.IntN(3))
				}
				if k%3 == 2 && i >= 3 { // a smooth row: Sub
					cur[i] = cur[i-3] + uint8(rng.IntN(3))
				}
			}
			row := make([]byte, 1+n)
			filterRow(row, cur, prev)
			seen[row[0]] = true
			want := make([]byte, n)
			for i := range n {
				switch row[0] {
				case filterNone:
					want[i] = cur[i]
				case filterSub:
					want[i] = cur[i]
					if i >= 3 {
						want[i] -= cur[i-3]
					}
				case filterUp:
					want[i] = cur[i] - prev[i]
				}
			}
			if !bytes.Equal(row[1:], want) {
				t.Fatalf("width %d, filter %d: %v, want %v", width, row[0], row[1:], want)
			}
		}
	}
	if len(seen) != 3 {
		t.Errorf("filters chosen: %v, want None, Sub and Up", seen)
	}
}
