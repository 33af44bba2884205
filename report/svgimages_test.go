package report

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// TestSVGImagesSameAsVgsvg draws a sample grid (RGBA, gray and NRGBA
// images, the last not cached) on vgsvg's canvas and on svgImages, with
// svgPNGs empty and then holding the images, and wants the same SVG.
func TestSVGImagesSameAsVgsvg(t *testing.T) {
	r := syntheticRun(t)
	g := grid(r, r.Test.Len())
	rng := rand.New(rand.NewPCG(7, 8))
	gray, nrgba := image.NewGray(image.Rect(0, 0, 32, 32)), image.NewNRGBA(image.Rect(0, 0, 16, 16))
	for i := range gray.Pix {
		gray.Pix[i] = uint8(rng.IntN(256))
	}
	for i := range nrgba.Pix {
		nrgba.Pix[i] = uint8(rng.IntN(256))
	}
	for i := range g.images { // syntheticRun's images are all alike
		img := image.NewRGBA(image.Rect(0, 0, 32, 32))
		for j := range img.Pix {
			img.Pix[j] = uint8(rng.IntN(256))
		}
		g.images[i] = img
	}
	g.images[1], g.images[2] = gray, nrgba
	w, h := g.size()
	want := vgsvg.New(w, h)
	g.draw(draw.New(want))
	var wantB bytes.Buffer
	if _, err := want.WriteTo(&wantB); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(wantB.String(), "<image "); n != len(g.images) {
		t.Fatalf("vgsvg wrote %d images, want %d", n, len(g.images))
	}
	svgPNGs.mu.Lock()
	clear(svgPNGs.m)
	svgPNGs.bytes = 0
	svgPNGs.mu.Unlock()
	for _, cache := range []string{"empty", "warm"} {
		got := newSVG(w, h)
		g.draw(draw.New(got))
		var gotB bytes.Buffer
		if _, err := got.WriteTo(&gotB); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(gotB.Bytes(), wantB.Bytes()) {
			t.Fatalf("svgPNGs %s: the SVG differs from vgsvg's", cache)
		}
	}
	if n := len(svgPNGs.m); n != len(g.images)-1 {
		t.Errorf("svgPNGs holds %d images, want %d (all but the NRGBA)", n, len(g.images)-1)
	}
	// Reports drawn at once share svgPNGs (go test -race).
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			got := newSVG(w, h)
			g.draw(draw.New(got))
			var gotB bytes.Buffer
			if _, err := got.WriteTo(&gotB); err != nil || !bytes.Equal(gotB.Bytes(), wantB.Bytes()) {
				t.Errorf("drawn at once: the SVG differs from vgsvg's (%v)", err)
			}
			svgPNGs.put(fmt.Sprint(rand.Int()), "x")
		})
	}
	wg.Wait()
}

// TestSVGImagesNoImage wants an SVG without images left as vgsvg writes it.
func TestSVGImagesNoImage(t *testing.T) {
	fig := func(c draw.Canvas) {
		c.SetColor(color.RGBA{R: 255, A: 255})
		c.FillString(markerFace(), vg.Point{X: 10, Y: 10}, "text <&>")
	}
	want, got := vgsvg.New(vg.Inch, vg.Inch), newSVG(vg.Inch, vg.Inch)
	fig(draw.New(want))
	fig(draw.New(got))
	var a, b bytes.Buffer
	want.WriteTo(&a)
	got.WriteTo(&b)
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("the SVG differs from vgsvg's")
	}
}

// TestPNGCacheBounded fills a pngCache with more images than it may hold
// and wants it within svgPNGBytes, every answer png.Encode's bytes, and
// images that differ in a pixel, their stride or their bounds told apart.
func TestPNGCacheBounded(t *testing.T) {
	p := pngCache{m: map[string]string{}}
	rng := rand.New(rand.NewPCG(9, 10))
	check := func(img image.Image) {
		t.Helper()
		got, err := p.base64(img)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		if got != base64.StdEncoding.EncodeToString(b.Bytes()) {
			t.Fatalf("image %v: not png.Encode's bytes", img.Bounds())
		}
	}
	var imgs []*image.RGBA
	for range 3 * svgPNGBytes / (2 * 32 * 32 * 4) {
		img := image.NewRGBA(image.Rect(0, 0, 32, 32))
		for i := range img.Pix {
			img.Pix[i] = uint8(rng.IntN(256))
		}
		imgs = append(imgs, img)
		check(img)
		kept := 0
		for k, v := range p.m {
			kept += len(k) + len(v)
		}
		if kept != p.bytes || kept > svgPNGBytes {
			t.Fatalf("%d bytes kept (counted %d), at most %d allowed", kept, p.bytes, svgPNGBytes)
		}
	}
	if len(p.m) == 0 {
		t.Fatal("nothing kept")
	}
	// The last image is kept; a copy of it changed in one pixel, or seen
	// through another stride or bounds, is another image.
	last := imgs[len(imgs)-1]
	check(last)
	changed := image.NewRGBA(last.Rect)
	copy(changed.Pix, last.Pix)
	changed.Pix[100]++
	check(changed)
	check(&image.RGBA{Pix: last.Pix, Stride: 4 * 32, Rect: image.Rect(0, 0, 16, 32)})
	check(&image.RGBA{Pix: last.Pix, Stride: 4 * 16, Rect: image.Rect(0, 0, 16, 32)})
	check(last.SubImage(image.Rect(0, 0, 31, 32)))
	check(&image.Gray{Pix: last.Pix, Stride: 32, Rect: image.Rect(0, 0, 32, 32)})
}
