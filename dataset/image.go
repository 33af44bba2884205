package dataset

import (
	"image"
	"image/color"
	"image/draw"

	xdraw "golang.org/x/image/draw"
)

// Image returns image i of s: RGBA for colour images, Gray for grayscale.
func (s *Set) Image(i int) image.Image {
	f := s.Features()
	px := s.Pixels[i*f : (i+1)*f]
	r := image.Rect(0, 0, s.Width, s.Height)
	if s.Channels == 1 {
		g := image.NewGray(r)
		copy(g.Pix, px)
		return g
	}
	img := image.NewRGBA(r)
	for p := range s.Width * s.Height {
		img.Pix[4*p], img.Pix[4*p+1], img.Pix[4*p+2], img.Pix[4*p+3] = px[3*p], px[3*p+1], px[3*p+2], 255
	}
	return img
}

// FromImage turns any image into one network input of shape s: composited
// over black where transparent, resized to Width x Height with a Catmull-Rom
// filter (which widens with the scale, so large photos are averaged rather
// than aliased), converted to gray when s has one channel (ITU-R 601 luma,
// 0.299 R + 0.587 G + 0.114 B, in PIL's convert("L") integer arithmetic,
// which Go's color.GrayModel, working on 16-bit values, misses by one level
// for about a sixth of colors), and flattened channels-last as pixels/255.
// s has 1 or 3 channels.
func FromImage(src image.Image, s Shape) []float32 {
	opaque := image.NewRGBA(src.Bounds())
	draw.Draw(opaque, opaque.Bounds(), image.NewUniform(color.Black), image.Point{}, draw.Src)
	draw.Draw(opaque, opaque.Bounds(), src, src.Bounds().Min, draw.Over)
	small := image.NewRGBA(image.Rect(0, 0, s.Width, s.Height))
	xdraw.CatmullRom.Scale(small, small.Bounds(), opaque, opaque.Bounds(), xdraw.Src, nil)
	out := make([]float32, s.Features())
	for p := range s.Width * s.Height {
		rgb := small.Pix[4*p : 4*p+3]
		if s.Channels == 1 {
			out[p] = float32(pilLuma(rgb[0], rgb[1], rgb[2])) / 255
			continue
		}
		for c := range 3 {
			out[p*3+c] = float32(rgb[c]) / 255
		}
	}
	return out
}

// pilLuma is PIL's RGB to L conversion (Convert.c's L24: the weights
// 0.299, 0.587, 0.114 in 16-bit fixed point, rounded).
func pilLuma(r, g, b uint8) uint8 {
	return uint8((19595*uint32(r) + 38470*uint32(g) + 7471*uint32(b) + 0x8000) >> 16)
}
