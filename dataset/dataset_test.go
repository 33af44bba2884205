package dataset

import (
	"image"
	"image/color"
	"math"
	"testing"
)

func TestSetSliceAndImage(t *testing.T) {
	s := NewSet(Shape{Height: 2, Width: 3, Channels: 3}, 2)
	s.Append(&Set{Pixels: make([]uint8, 2*18), Labels: []uint8{4, 7}})
	for i := range s.Pixels {
		s.Pixels[i] = uint8(i)
	}
	second := s.Slice(1, 2)
	if second.Len() != 1 || second.Labels[0] != 7 || second.Pixels[0] != 18 || second.Shape != s.Shape {
		t.Fatalf("Slice(1,2) = %+v", second)
	}
	// Pixel (y=1, x=2) of image 1 is channels-last at 18 + (1*3+2)*3.
	img := s.Image(1).(*image.RGBA)
	if got, want := img.RGBAAt(2, 1), (color.RGBA{33, 34, 35, 255}); got != want {
		t.Errorf("Image(1) at (2,1) = %v, want %v", got, want)
	}
	if c := s.Counts(10); c[4] != 1 || c[7] != 1 || len(c) != 10 {
		t.Errorf("Counts = %v", c)
	}
	g := &Set{Shape: Shape{Height: 2, Width: 2, Channels: 1}, Pixels: []uint8{1, 2, 3, 4, 5, 6, 7, 8}, Labels: []uint8{0, 1}}
	if got := g.Image(1).(*image.Gray).GrayAt(1, 1).Y; got != 8 {
		t.Errorf("gray Image(1) at (1,1) = %d, want 8", got)
	}
}

// A uniform colour photo of any size becomes, for a 28x28x1 model, 784
// values of its ITU-R 601 luma over 255, and for a 32x32x3 model its
// colour.
func TestFromImage(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 50, 37))
	for i := 0; i < len(src.Pix); i += 4 {
		src.Pix[i], src.Pix[i+1], src.Pix[i+2], src.Pix[i+3] = 200, 100, 50, 255
	}
	gray := FromImage(src, Shape{Height: 28, Width: 28, Channels: 1})
	if len(gray) != 784 {
		t.Fatalf("len = %d, want 784", len(gray))
	}
	luma := 0.299*200 + 0.587*100 + 0.114*50 // 124.2
	for i, v := range gray {
		if math.Abs(float64(v)*255-luma) > 1 {
			t.Fatalf("gray[%d] = %v*255, want %.1f", i, float64(v)*255, luma)
		}
	}
	rgb := FromImage(src, Shape{Height: 32, Width: 32, Channels: 3})
	if len(rgb) != 3072 || rgb[0] != 200.0/255 || rgb[1] != 100.0/255 || rgb[3071] != 50.0/255 {
		t.Fatalf("rgb: len %d, first %v", len(rgb), rgb[:3])
	}
}

// TestFromImageGrayIsPILs: the gray of a color is PIL's convert("L")
// bit for bit (values from Pillow 9.4 on these colors); Go's
// color.GrayModel, used before, gives 190, 148, 102, 208 and 1 for them.
func TestFromImageGrayIsPILs(t *testing.T) {
	for _, c := range []struct{ r, g, b, l uint8 }{{199, 221, 1, 189}, {195, 110, 216, 147}, {240, 22, 157, 103}, {180, 235, 137, 207}, {1, 2, 3, 2}, {255, 255, 255, 255}} {
		src := image.NewRGBA(image.Rect(0, 0, 28, 28))
		for i := 0; i < len(src.Pix); i += 4 {
			src.Pix[i], src.Pix[i+1], src.Pix[i+2], src.Pix[i+3] = c.r, c.g, c.b, 255
		}
		if got := FromImage(src, Shape{Height: 28, Width: 28, Channels: 1})[0]; got != float32(c.l)/255 {
			t.Errorf("(%d, %d, %d): gray %v*255, PIL's is %d", c.r, c.g, c.b, got*255, c.l)
		}
	}
}

func TestChecksumCoversEverySample(t *testing.T) {
	mk := func() *Data {
		sh := Shape{Height: 1, Width: 1, Channels: 1}
		return &Data{Train: &Set{Shape: sh, Pixels: []uint8{1, 2}, Labels: []uint8{0, 1}}, Test: &Set{Shape: sh, Pixels: []uint8{3}, Labels: []uint8{1}}}
	}
	a, b := mk(), mk()
	if a.Checksum() != b.Checksum() {
		t.Fatal("same data, different checksums")
	}
	b.Test.Pixels[0] = 4
	if a.Checksum() == b.Checksum() {
		t.Fatal("a changed test pixel leaves the checksum unchanged")
	}
}
