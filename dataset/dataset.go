// Package dataset is what every data set cifarnet trains on shares: the
// value a data set is (its name, image shape, class names, and uint8
// training and test images with their labels), and the machinery that finds,
// caches, downloads, verifies and reads the files of any of them.
//
// Training, evaluation, the report, predict and bench consume a *Data and
// its Info; only the dataset folders (cifar10/, cifar100/, mnist/) know an
// image's shape or a class count.
package dataset

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Shape is the geometry of one image: Height x Width pixels of Channels
// values (3: RGB, 1: grayscale).
type Shape struct {
	Height   int `json:"height"`
	Width    int `json:"width"`
	Channels int `json:"channels"`
}

// Features is the number of values in one image.
func (s Shape) Features() int { return s.Height * s.Width * s.Channels }

// Dims returns [height, width, channels], Keras's input shape.
func (s Shape) Dims() []int { return []int{s.Height, s.Width, s.Channels} }

// Info describes a data set before any of it is read.
type Info struct {
	// Name is the data set's name as --dataset spells it (keras.datasets'
	// module name): cifar10, cifar100, mnist, fashion_mnist.
	Name string
	// LabelMode is CIFAR-100's "fine" or "coarse" (empty for the others).
	LabelMode string
	Shape
	// Classes names the classes in label order.
	Classes []string
	// TrainSize and TestSize are the numbers of images in the official
	// training and test sets.
	TrainSize, TestSize int
}

// NumClasses is the number of classes.
func (i Info) NumClasses() int { return len(i.Classes) }

// Title is the name for people: "CIFAR-100 (coarse labels)".
func (i Info) Title() string {
	t := map[string]string{"cifar10": "CIFAR-10", "cifar100": "CIFAR-100", "mnist": "MNIST", "fashion_mnist": "Fashion-MNIST"}[i.Name]
	if t == "" {
		t = i.Name
	}
	if i.LabelMode != "" {
		t += " (" + i.LabelMode + " labels)"
	}
	return t
}

// Set is a sequence of labelled images in file order.
type Set struct {
	Shape
	// Pixels holds Len()*Features() bytes, each image channels-last:
	// pixel (y, x) channel c of image i is
	// Pixels[i*Features() + (y*Width+x)*Channels + c], as Keras's arrays
	// are after reshape(-1, height*width*channels).
	Pixels []uint8
	// Labels holds one class index per image.
	Labels []uint8
}

// NewSet returns an empty set of images of shape s with room for n.
func NewSet(s Shape, n int) *Set {
	return &Set{Shape: s, Pixels: make([]uint8, 0, n*s.Features()), Labels: make([]uint8, 0, n)}
}

// Len returns the number of images in s.
func (s *Set) Len() int { return len(s.Labels) }

// Float32 returns the images as float32 pixels/255, one row of Features()
// values per image.
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
	f := s.Features()
	return &Set{Shape: s.Shape, Pixels: s.Pixels[from*f : to*f], Labels: s.Labels[from:to]}
}

// Append adds the images of t (of the same shape) to s.
func (s *Set) Append(t *Set) {
	s.Pixels = append(s.Pixels, t.Pixels...)
	s.Labels = append(s.Labels, t.Labels...)
}

// Counts returns how many images of each of k classes s holds.
func (s *Set) Counts(k int) []int {
	c := make([]int, k)
	for _, l := range s.Labels {
		if int(l) < k {
			c[l]++
		}
	}
	return c
}

// ShortError reports data that holds fewer samples than were asked for:
// a file that is missing or has too few records.
type ShortError struct {
	File      string // the file, or archive:member
	Test      bool   // the test set (else the training set)
	Have      int    // records it has (0: missing)
	Want      int    // records the load needs from it
	Available int    // samples of this kind in the data, counting earlier files
	// Missing names the files of this kind the load needs that are absent
	// from the directory or archive (File is the first), so that one
	// message lists them all; empty when File is present but short.
	Missing []string
	Msg     string // the whole message
}

func (e *ShortError) Error() string { return e.Msg }

// Data holds the training and test images of one load.
type Data struct {
	Info
	Train, Test *Set
	// Source is the directory or file the data was read from.
	Source string
	// NotOfficial names the files read whose SHA-256 is none of the
	// official files' (the MNIST family compares them): a user's own data
	// in the format, or an official file changed. A run on them is not
	// comparable with published results. Empty when every file read is
	// official, or the data set's files are not compared (CIFAR).
	NotOfficial []string
}

// NotOfficialWarning is the warning a run on d prints, on one line, when
// d.NotOfficial names files; "" otherwise.
func (d *Data) NotOfficialWarning() string {
	if len(d.NotOfficial) == 0 {
		return ""
	}
	what := "is not the official " + d.Title() + " file"
	if len(d.NotOfficial) > 1 {
		what = "are not the official " + d.Title() + " files"
	}
	return fmt.Sprintf("%s: %s %s (SHA-256 not the published one): results are not comparable with published ones",
		d.Name, strings.Join(d.NotOfficial, ", "), what)
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

// AppendPlanar appends one image stored as planes, all of channel 0 row by
// row, then all of channel 1, ... (the CIFAR files' layout), converting it
// to channels-last, with its label.
func (s *Set) AppendPlanar(label uint8, planes []byte) {
	plane := s.Height * s.Width
	for p := range plane {
		for c := range s.Channels {
			s.Pixels = append(s.Pixels, planes[c*plane+p])
		}
	}
	s.Labels = append(s.Labels, label)
}
