package report

import (
	"bytes"
	"image"
	"image/color"
	"math/rand/v2"
	"testing"

	"golang.org/x/image/draw"
	"golang.org/x/image/math/f64"
	vgdraw "gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// TestGlyphInterpSameAsBiLinear draws masks over uniform colours with
// glyphInterp and with draw.BiLinear and wants the same pixels: every
// mask value over every destination value (in each channel, under
// opaque, translucent and transparent colours), and random masks moved
// by whole and fractional pixels, partly off the destination, with
// offset mask origins, and rotated (which glyphInterp hands to BiLinear).
func TestGlyphInterpSameAsBiLinear(t *testing.T) {
	colours := append([]color.Color{color.Black, color.White, color.Transparent,
		color.NRGBA{200, 30, 90, 128}, color.RGBA{10, 20, 30, 40}, color.NRGBA{255, 255, 255, 1}}, Palette...)
	both := func(dst *image.RGBA, s2d f64.Aff3, c color.Color, mask *image.Alpha, maskp image.Point, sr image.Rectangle) (got, want []byte) {
		t.Helper()
		a, b := image.NewRGBA(dst.Rect), image.NewRGBA(dst.Rect)
		copy(a.Pix, dst.Pix)
		copy(b.Pix, dst.Pix)
		opts := &draw.Options{SrcMask: mask, SrcMaskP: maskp}
		glyphInterp{}.Transform(a, s2d, image.NewUniform(c), sr, draw.Over, opts)
		draw.BiLinear.Transform(b, s2d, image.NewUniform(c), sr, draw.Over, opts)
		return a.Pix, b.Pix
	}

	// Every mask value (x) over every destination value (y).
	all := image.NewAlpha(image.Rect(0, 0, 256, 256))
	dst := image.NewRGBA(all.Rect)
	for y := range 256 {
		for x := range 256 {
			all.Pix[all.PixOffset(x, y)] = uint8(x)
			dst.SetRGBA(x, y, color.RGBA{uint8(y), uint8(255 - y), uint8(y / 2), 255})
		}
	}
	for _, c := range colours {
		if got, want := both(dst, f64.Aff3{1, 0, 0, 0, 1, 0}, c, all, image.Point{}, all.Rect); !bytes.Equal(got, want) {
			t.Fatalf("colour %v: glyphInterp's pixels differ from BiLinear's", c)
		}
	}

	rng := rand.New(rand.NewPCG(5, 6))
	for i := range 300 {
		mw, mh := 1+rng.IntN(20), 1+rng.IntN(20)
		mask := image.NewAlpha(image.Rect(3, 4, 3+mw+rng.IntN(4), 4+mh+rng.IntN(4)))
		for j := range mask.Pix {
			if rng.IntN(3) > 0 {
				mask.Pix[j] = uint8(rng.IntN(256))
			}
		}
		dst := image.NewRGBA(image.Rect(0, 0, 30, 25))
		for j := range dst.Pix {
			dst.Pix[j] = uint8(rng.IntN(256))
			if j%4 == 3 && i%2 == 0 {
				dst.Pix[j] = 255
			}
		}
		s2d := f64.Aff3{1, 0, float64(rng.IntN(40) - 10), 0, 1, float64(rng.IntN(35) - 10)}
		switch i % 6 {
		case 4:
			s2d[2] += 0.25
		case 5:
			s2d[0], s2d[1], s2d[3], s2d[4] = 0, -1, 1, 0
		}
		c := colours[rng.IntN(len(colours))]
		maskp := image.Pt(rng.IntN(6), rng.IntN(6))
		if got, want := both(dst, s2d, c, mask, maskp, image.Rect(0, 0, mw, mh)); !bytes.Equal(got, want) {
			t.Fatalf("case %d (%v, colour %v, mask %v at %v): glyphInterp's pixels differ from BiLinear's", i, s2d, c, mask.Rect, maskp)
		}
	}
}

// TestRasterTextSameAsVgimg draws a chart, labels and rotated text
// included, on render's raster canvas and on vgimg's own (draw.BiLinear),
// and wants the same pixels.
func TestRasterTextSameAsVgimg(t *testing.T) {
	r := syntheticRun(t)
	ch, err := curve(r.History, r.Metrics, "loss", "Loss")
	if err != nil {
		t.Fatal(err)
	}
	own := vgimg.NewWith(vgimg.UseWH(ch.w, ch.h), vgimg.UseDPI(rasterDPI))
	ch.draw(vgdraw.New(own))
	want := own.Image().(*image.RGBA)
	img := image.NewRGBA(want.Rect)
	ch.draw(vgdraw.New(rasterOn(img)))
	if !bytes.Equal(img.Pix, want.Pix) {
		t.Fatal("the chart's pixels differ from vgimg's")
	}
	if bytes.Count(want.Pix, []byte{255, 255, 255, 255}) > len(want.Pix)/4-100 {
		t.Fatal("hardly anything drawn")
	}
}
