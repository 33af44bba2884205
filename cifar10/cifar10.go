// Package cifar10 reads the CIFAR-10 data set in its official binary format,
// from an extracted cifar-10-batches-bin directory or straight from the
// cifar-10-binary.tar.gz archive, and preprocesses it as Keras does.
//
// A record in the binary format is 3,073 bytes: one label byte, then the
// 1,024 red, 1,024 green and 1,024 blue bytes of a 32x32 image, each plane
// row-major. Keras's cifar10.load_data returns images as (32, 32, 3) arrays,
// and Flatten / reshape(-1, 3072) then makes the features pixel-major with
// the colours interleaved (R,G,B of pixel 0, then of pixel 1, ...). Set
// stores pixels in that channels-last order, so Float32 gives exactly the
// array the Keras exercise trains on.
package cifar10

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
)

// Image geometry and record size of the binary format.
const (
	Height     = 32
	Width      = 32
	Channels   = 3
	Features   = Height * Width * Channels // 3072 values per image
	RecordSize = 1 + Features              // label byte + pixels
	NumClasses = 10

	// PerBatch is the number of records in each official batch file.
	PerBatch = 10000
	// TrainBatches is the number of official training batch files.
	TrainBatches = 5
)

// ClassNames are the ten CIFAR-10 classes in label order (batches.meta.txt).
var ClassNames = [NumClasses]string{
	"airplane", "automobile", "bird", "cat", "deer",
	"dog", "frog", "horse", "ship", "truck",
}

// Set is a sequence of labelled images in file order.
type Set struct {
	// Pixels holds Len()*Features bytes, each image channels-last:
	// pixel (y, x) colour c is Pixels[i*Features + (y*Width+x)*Channels + c].
	Pixels []uint8
	// Labels holds one class index in [0, NumClasses) per image.
	Labels []uint8
}

// Len returns the number of images in s.
func (s *Set) Len() int { return len(s.Labels) }

// Float32 returns the images as float32 pixels/255, one row of Features
// values per image, in the channels-last order Keras flattens to.
func (s *Set) Float32() []float32 {
	out := make([]float32, len(s.Pixels))
	for i, p := range s.Pixels {
		// Keras: x.astype('float32') / 255.0, a float32 division.
		out[i] = float32(p) / 255
	}
	return out
}

// Int32Labels returns the labels as int32 class indices.
func (s *Set) Int32Labels() []int32 {
	out := make([]int32, len(s.Labels))
	for i, l := range s.Labels {
		out[i] = int32(l)
	}
	return out
}

// Slice returns the images [from, to) of s, sharing its memory.
func (s *Set) Slice(from, to int) *Set {
	return &Set{Pixels: s.Pixels[from*Features : to*Features], Labels: s.Labels[from:to]}
}

// Counts returns how many images of each class s holds.
func (s *Set) Counts() [NumClasses]int {
	var c [NumClasses]int
	for _, l := range s.Labels {
		c[l]++
	}
	return c
}

// readRecords reads n records from r and appends them to s, converting each
// image from the file's planar layout to channels-last. name is used in
// errors; first is the index of the first record within its file.
func (s *Set) readRecords(r io.Reader, n int, name string) error {
	buf := make([]byte, RecordSize)
	for i := range n {
		if _, err := io.ReadFull(r, buf); err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return fmt.Errorf("cifar10: %s: truncated at record %d: want %d records of %d bytes", name, i, n, RecordSize)
			}
			return fmt.Errorf("cifar10: %s: record %d: %w", name, i, err)
		}
		label := buf[0]
		if label >= NumClasses {
			return fmt.Errorf("cifar10: %s: record %d: label %d out of range [0,%d)", name, i, label, NumClasses)
		}
		s.Labels = append(s.Labels, label)
		planes := buf[1:]
		const plane = Height * Width
		for p := range plane {
			s.Pixels = append(s.Pixels, planes[p], planes[plane+p], planes[2*plane+p])
		}
	}
	return nil
}

// Checksum returns the SHA-256 of the samples in d (training labels and
// pixels, then test), in hex: it identifies the exact data a run used,
// whatever file or archive it came from.
func (d *Data) Checksum() string {
	h := sha256.New()
	for _, s := range []*Set{d.Train, d.Test} {
		h.Write(s.Labels)
		h.Write(s.Pixels)
	}
	return hex.EncodeToString(h.Sum(nil))
}
