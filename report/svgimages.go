package report

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/png"
	"io"
	"sync"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// svgImages is render's SVG canvas: vgsvg's, except that its images are
// PNG-encoded once per process (svgPNGs) rather than at every DrawImage.
// Every run's sample grid holds the same test images, and vgsvg encoded
// each of them again for every report, with a new zlib compressor each
// time. The SVG written is vgsvg's to the byte: DrawImage writes a
// placeholder (the only raw output a vg.Canvas offers is text) that
// WriteTo replaces by the element vgsvg's DrawImage writes
// (TestSVGImagesSameAsVgsvg).
type svgImages struct {
	*vgsvg.Canvas
	elems [][]byte // the <image> elements, in order
}

func newSVG(w, h vg.Length) *svgImages { return &svgImages{Canvas: vgsvg.New(w, h)} }

// svgMarker is the placeholder of the i-th image: private-use characters
// around it, and the process's nonce in it, which no label holds.
func svgMarker(i int) string {
	return fmt.Sprintf("\uE000cifarnet image %s %d\uE000", placeholderNonce, i)
}

// markerFace is the font of the placeholders' text elements, which
// WriteTo removes whole.
var markerFace = sync.OnceValue(func() font.Face { return font.DefaultCache.Lookup(plot.DefaultFont, 10) })

func (c *svgImages) DrawImage(rect vg.Rectangle, img image.Image) {
	data, err := svgPNGs.base64(img)
	if err != nil {
		panic(fmt.Errorf("vgsvg: error encoding image to PNG: %+v", err)) // as vgsvg does
	}
	rsz, min := rect.Size(), rect.Min
	elem := fmt.Appendf(nil, `<image x="%v" y="%v" width="%v" height="%v" xlink:href="%s" %s />`+"\n",
		min.X.Points(), -min.Y.Points()-rsz.Y.Points(), rsz.X.Points(), rsz.Y.Points(),
		"data:image/jpg;base64,"+data, `transform="scale(1, -1)"`)
	c.Canvas.FillString(markerFace(), vg.Point{}, svgMarker(len(c.elems)))
	c.elems = append(c.elems, elem)
}

// WriteTo writes the SVG with each placeholder's text element replaced by
// its image element.
func (c *svgImages) WriteTo(w io.Writer) (int64, error) {
	var b bytes.Buffer
	if _, err := c.Canvas.WriteTo(&b); err != nil {
		return 0, err
	}
	svg := b.Bytes()
	if len(c.elems) > 0 {
		out := make([]byte, 0, len(svg)+len(c.elems)*len(c.elems[0]))
		rest := svg
		for i, elem := range c.elems {
			at := bytes.Index(rest, []byte(svgMarker(i)))
			if at < 0 {
				return 0, fmt.Errorf("report: SVG image %d: its placeholder is not in vgsvg's output", i)
			}
			start, end := bytes.LastIndex(rest[:at], []byte("<text ")), bytes.Index(rest[at:], []byte("</text>\n"))
			if start < 0 || end < 0 {
				return 0, fmt.Errorf("report: SVG image %d: its placeholder is not a text element", i)
			}
			out = append(append(out, rest[:start]...), elem...)
			rest = rest[at+end+len("</text>\n"):]
		}
		svg = append(out, rest...)
	}
	n, err := w.Write(svg)
	return int64(n), err
}

// svgPNGs holds the base64 PNGs of small images drawn on SVG canvases (the
// sample grid's test images, the same in every run of an experiment), up to
// svgPNGBytes of keys and values.
var svgPNGs = pngCache{m: map[string]string{}}

// svgPNGBytes bounds svgPNGs: a few hundred 32x32 images.
const svgPNGBytes = 2 << 20

// svgPNGMaxPixels is the largest image svgPNGs keeps.
const svgPNGMaxPixels = 64 * 64

type pngCache struct {
	mu    sync.Mutex
	m     map[string]string // image (imageKey) -> base64 of png.Encode's bytes
	bytes int               // of the keys and values in m
}

// base64 returns img encoded by png.Encode (as vgsvg encodes it), in base64.
func (p *pngCache) base64(img image.Image) (string, error) {
	key, ok := imageKey(img)
	if ok {
		p.mu.Lock()
		v, hit := p.m[key]
		p.mu.Unlock()
		if hit {
			return v, nil
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return "", err
	}
	v := base64.StdEncoding.EncodeToString(b.Bytes())
	if ok {
		p.put(key, v)
	}
	return v, nil
}

// put keeps key's value, first emptying the cache if it would hold more
// than svgPNGBytes.
func (p *pngCache) put(key, v string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.m[key]; ok {
		return
	}
	size := len(key) + len(v)
	if size > svgPNGBytes {
		return
	}
	if p.bytes+size > svgPNGBytes {
		clear(p.m)
		p.bytes = 0
	}
	p.m[key] = v
	p.bytes += size
}

// imageKey identifies a small *image.RGBA or *image.Gray (what
// dataset.Set.Image returns) by its type, bounds, stride and pixels:
// everything png.Encode's output depends on.
func imageKey(img image.Image) (string, bool) {
	var kind byte
	var pix []byte
	var stride int
	switch m := img.(type) {
	case *image.RGBA:
		kind, pix, stride = 'c', m.Pix, m.Stride
	case *image.Gray:
		kind, pix, stride = 'g', m.Pix, m.Stride
	default:
		return "", false
	}
	r := img.Bounds()
	if r.Dx()*r.Dy() > svgPNGMaxPixels || len(pix) > 4*svgPNGMaxPixels {
		return "", false
	}
	return fmt.Sprintf("%c%v/%d:", kind, r, stride) + string(pix), true
}
