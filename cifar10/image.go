package cifar10

import (
	"image"
	"image/color"
	"image/draw"

	xdraw "golang.org/x/image/draw"
)

// Image returns image i of s as a 32x32 RGBA image.
func (s *Set) Image(i int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, Width, Height))
	px := s.Pixels[i*Features : (i+1)*Features]
	for p := range Width * Height {
		img.Pix[4*p], img.Pix[4*p+1], img.Pix[4*p+2], img.Pix[4*p+3] = px[3*p], px[3*p+1], px[3*p+2], 255
	}
	return img
}

// FromImage turns any image into one CIFAR-10 sample: composited over
// black where transparent, resized to 32x32 with a Catmull-Rom filter (which
// widens with the scale, so large photos are averaged rather than aliased),
// and flattened channels-last as pixels/255.
func FromImage(src image.Image) []float32 {
	opaque := image.NewRGBA(src.Bounds())
	draw.Draw(opaque, opaque.Bounds(), image.NewUniform(color.Black), image.Point{}, draw.Src)
	draw.Draw(opaque, opaque.Bounds(), src, src.Bounds().Min, draw.Over)
	small := image.NewRGBA(image.Rect(0, 0, Width, Height))
	xdraw.CatmullRom.Scale(small, small.Bounds(), opaque, opaque.Bounds(), xdraw.Src, nil)
	out := make([]float32, Features)
	for p := range Width * Height {
		for c := range Channels {
			out[p*Channels+c] = float32(small.Pix[4*p+c]) / 255
		}
	}
	return out
}
