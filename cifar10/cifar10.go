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
	"fmt"
	"io"

	"github.com/cifarnet/cifarnet/dataset"
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

// Set and Data are the shared dataset values; a CIFAR-10 Set holds 32x32x3
// images.
type (
	Set  = dataset.Set
	Data = dataset.Data
)

// Shape is a CIFAR-10 image's.
var Shape = dataset.Shape{Height: Height, Width: Width, Channels: Channels}

// Info describes CIFAR-10 with the given class names (ClassNames unless a
// batches.meta.txt says otherwise).
func Info(classes []string) dataset.Info {
	return dataset.Info{Name: "cifar10", Shape: Shape, Classes: classes, TrainSize: TrainBatches * PerBatch, TestSize: PerBatch}
}

// readRecords reads n records from r and appends them to s, converting each
// image from the file's planar layout to channels-last. name is used in
// errors; first is the index of the first record within its file.
func readRecords(s *Set, r io.Reader, n int, name string) error {
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
