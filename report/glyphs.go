package report

import (
	"image"
	"math"

	"golang.org/x/image/draw"
	"golang.org/x/image/math/f64"
)

// glyphInterp is the raster canvases' interpolator (gg's is
// draw.BiLinear). gg draws every glyph of every label through it: the
// glyph's mask over a uniform colour, moved by a whole number of pixels
// unless the text is rotated. draw.BiLinear takes its slowest path there,
// a general kernel over image.Image values, which made text a large share
// of a report's drawing. On such a move bilinear sampling lands on pixel
// centres, each destination pixel takes one mask pixel with weight 1, and
// glyphInterp does the same integer arithmetic directly on the pixels, so
// the result is the same to the bit (TestGlyphInterpSameAsBiLinear). Any
// other transform, image or option goes to draw.BiLinear.
type glyphInterp struct{}

func (glyphInterp) Scale(dst draw.Image, dr image.Rectangle, src image.Image, sr image.Rectangle, op draw.Op, opts *draw.Options) {
	draw.BiLinear.Scale(dst, dr, src, sr, op, opts)
}

func (glyphInterp) Transform(dst draw.Image, s2d f64.Aff3, src image.Image, sr image.Rectangle, op draw.Op, opts *draw.Options) {
	d, okDst := dst.(*image.RGBA)
	u, okSrc := src.(*image.Uniform)
	var mask *image.Alpha
	if opts != nil && opts.DstMask == nil {
		mask, _ = opts.SrcMask.(*image.Alpha)
	}
	tx, okX := wholeShift(s2d[2])
	ty, okY := wholeShift(s2d[5])
	if !okDst || !okSrc || mask == nil || op != draw.Over || !okX || !okY ||
		s2d[0] != 1 || s2d[1] != 0 || s2d[3] != 0 || s2d[4] != 1 {
		draw.BiLinear.Transform(dst, s2d, src, sr, op, opts)
		return
	}
	glyphOver(d, sr.Add(image.Pt(tx, ty)).Intersect(d.Rect), image.Pt(tx, ty), u, mask, opts.SrcMaskP)
}

// wholeShift returns f as an int if it is a whole number small enough
// for the float64 arithmetic of draw's transforms to be exact.
func wholeShift(f float64) (int, bool) {
	if f != math.Trunc(f) || math.Abs(f) > 1<<24 {
		return 0, false
	}
	return int(f), true
}

// glyphOver draws u through mask onto the pixels r of dst, each taking
// the mask pixel at its position less shift (plus maskp), with the
// arithmetic of draw.Kernel's general Over path at weight 1: colour and
// mask in 16 bits, mask pixels outside the mask's bounds transparent.
func glyphOver(dst *image.RGBA, r image.Rectangle, shift image.Point, u *image.Uniform, mask *image.Alpha, maskp image.Point) {
	cr, cg, cb, ca := u.C.RGBA()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		my := y - shift.Y + maskp.Y
		if my < mask.Rect.Min.Y || my >= mask.Rect.Max.Y {
			continue
		}
		for x := r.Min.X; x < r.Max.X; x++ {
			mx := x - shift.X + maskp.X
			if mx < mask.Rect.Min.X || mx >= mask.Rect.Max.X {
				continue
			}
			ma := uint32(mask.Pix[mask.PixOffset(mx, my)])
			if ma == 0 {
				continue // leaves the pixel as it is
			}
			ma |= ma << 8
			pa := ca * ma / 0xffff
			pr, pg, pb := min(cr*ma/0xffff, pa), min(cg*ma/0xffff, pa), min(cb*ma/0xffff, pa)
			pa1 := 0xffff - pa
			p := dst.Pix[dst.PixOffset(x, y):][:4:4]
			p[0] = uint8(uint16(uint32(p[0])*0x101*pa1/0xffff+pr) >> 8)
			p[1] = uint8(uint16(uint32(p[1])*0x101*pa1/0xffff+pg) >> 8)
			p[2] = uint8(uint16(uint32(p[2])*0x101*pa1/0xffff+pb) >> 8)
			p[3] = uint8(uint16(uint32(p[3])*0x101*pa1/0xffff+pa) >> 8)
		}
	}
}
