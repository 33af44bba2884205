package cifar10

import (
	"bytes"
	"fmt"

	"github.com/cifarnet/cifarnet/dataset"
	"github.com/cifarnet/cifarnet/internal/quote"
)

// decodeBatch checks the unpickled value is a CIFAR-10 batch and converts
// its first n records (all when n < 0).
func decodeBatch(v any, n int, name string) (*Set, error) {
	d, ok := v.(*dataset.PyDict)
	if !ok {
		return nil, fmt.Errorf("cifar10: %s: %w: top level is %T, want a dict", name, dataset.ErrPickle, v)
	}
	arr, ok := d.Items["data"].(*dataset.PyArray)
	if !ok {
		return nil, fmt.Errorf("cifar10: %s: %w: no numpy array under 'data'", name, dataset.ErrPickle)
	}
	labels, ok := d.Items["labels"].(*dataset.PyList)
	if !ok {
		return nil, fmt.Errorf("cifar10: %s: %w: no list under 'labels'", name, dataset.ErrPickle)
	}
	if arr.Dtype != "u1" || len(arr.Shape) != 2 || arr.Shape[1] != Features || int64(len(arr.Data)) != arr.Shape[0]*Features {
		return nil, fmt.Errorf("cifar10: %s: %w: data is %s %s with %d bytes, want uint8 (n, %d)", name, dataset.ErrPickle, quote.Line(arr.Dtype, quote.Max), quote.Line(fmt.Sprint(arr.Shape), quote.Max), len(arr.Data), Features)
	}
	rows := int(arr.Shape[0])
	if len(labels.Items) != rows {
		return nil, fmt.Errorf("cifar10: %s: %w: %d labels for %d images", name, dataset.ErrPickle, len(labels.Items), rows)
	}
	if n < 0 {
		n = rows
	}
	if n > rows {
		return nil, fmt.Errorf("cifar10: %s: has %d records, want at least %d", name, rows, n)
	}
	s := dataset.NewSet(Shape, n)
	rec := make([]byte, RecordSize)
	for i := range n {
		l, ok := labels.Items[i].(int64)
		if !ok || l < 0 || l >= NumClasses {
			return nil, fmt.Errorf("cifar10: %s: record %d: label %s out of range [0,%d)", name, i, dataset.PyShort(labels.Items[i]), NumClasses)
		}
		rec[0] = byte(l)
		copy(rec[1:], arr.Data[i*Features:(i+1)*Features])
		if err := readRecords(s, bytes.NewReader(rec), 1, name); err != nil {
			return nil, err
		}
	}
	return s, nil
}
