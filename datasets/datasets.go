// Package datasets names the data sets cifarnet trains on, those of
// keras.datasets for image classification, and finds and loads one by
// name. Each lives in its own package (cifar10/, mnist/, ...); this is the
// one place that lists them.
package datasets

import (
	"context"
	"fmt"
	"strings"

	"github.com/cifarnet/cifarnet/cifar10"
	"github.com/cifarnet/cifarnet/cifar100"
	"github.com/cifarnet/cifarnet/dataset"
	"github.com/cifarnet/cifarnet/mnist"
)

// Default is the data set of the exercise.
const Default = "cifar10"

// entry is one data set: what it is, where it is looked for, how it is read.
type entry struct {
	info   dataset.Info
	places dataset.Places
	load   func(info dataset.Info, src string, nTrain, nTest int) (*dataset.Data, error)
}

func entries() []entry {
	fine, _ := cifar100.Info(cifar100.Fine)
	return []entry{
		{cifar10.Info(cifar10.ClassNames[:]), cifar10.Places(cifar10.Downloader{}), func(_ dataset.Info, src string, nTrain, nTest int) (*dataset.Data, error) {
			return cifar10.Load(src, nTrain, nTest)
		}},
		{fine, cifar100.Places(), cifar100.Load},
		{mnist.Info(), mnist.Places(), mnist.Load},
		{mnist.FashionInfo(), mnist.FashionPlaces(), mnist.Load},
	}
}

// Names lists the data sets Lookup knows.
func Names() []string {
	var n []string
	for _, e := range entries() {
		n = append(n, e.info.Name)
	}
	return n
}

func lookup(name string) (entry, error) {
	if name == "" {
		name = Default
	}
	for _, e := range entries() {
		if e.info.Name == name {
			return e, nil
		}
	}
	return entry{}, &ArgError{Arg: "dataset", Value: name, Want: "want one of " + strings.Join(Names(), ", ")}
}

// An ArgError is a data set's name, or a label mode, that Lookup does not
// know: Arg is "dataset" or "label_mode" (the names of train.Config's JSON
// and of an experiment's settings), Want what it takes.
type ArgError struct {
	Arg, Value, Want string
}

func (e *ArgError) Error() string { return fmt.Sprintf("%s %q: %s", e.Arg, e.Value, e.Want) }

// Lookup returns the description of the named data set. An empty name is
// CIFAR-10 (runs saved before data sets had names). labelMode is
// CIFAR-100's "fine" (the default) or "coarse", and must be empty for the
// others.
func Lookup(name, labelMode string) (dataset.Info, error) {
	e, err := lookup(name)
	if err != nil {
		return dataset.Info{}, err
	}
	if e.info.Name == "cifar100" {
		info, err := cifar100.Info(labelMode)
		if err != nil {
			return info, &ArgError{Arg: "label_mode", Value: labelMode, Want: "want " + cifar100.Fine + " or " + cifar100.Coarse}
		}
		return info, nil
	}
	if labelMode != "" {
		return dataset.Info{}, &ArgError{Arg: "label_mode", Value: labelMode, Want: "only cifar100 has label modes"}
	}
	return e.info, nil
}

// Load reads the first nTrain training and nTest test images of the data
// set info describes from src (a directory or a file: see Find).
func Load(info dataset.Info, src string, nTrain, nTest int) (*dataset.Data, error) {
	e, err := lookup(info.Name)
	if err != nil {
		return nil, err
	}
	return e.load(info, src, nTrain, nTest)
}

// Find returns where the data set's files are: explicit if given, else the
// first place it is found, else (unless offline) the official files
// downloaded into cifarnet's cache, progress (nil: none) giving each file's
// progress function.
func Find(ctx context.Context, info dataset.Info, explicit string, offline bool, progress func(file string) func(done, total int64)) (string, error) {
	e, err := lookup(info.Name)
	if err != nil {
		return "", err
	}
	src, err := e.places.Find(ctx, explicit, offline, progress)
	if err != nil {
		return "", fmt.Errorf("%s: %w", info.Name, err)
	}
	return src, nil
}

// Destination is the file or directory in cifarnet's cache that Download
// writes and Find looks at (see dataset.Places.Destination).
func Destination(info dataset.Info) (string, error) {
	e, err := lookup(info.Name)
	if err != nil {
		return "", err
	}
	return e.places.Destination()
}

// Download fetches the data set's official files into cifarnet's cache
// (from url instead of the official location if url is not empty: see
// dataset.Places.Download) unless they are there, and returns their path.
func Download(ctx context.Context, info dataset.Info, url string, progress func(file string) func(done, total int64)) (string, error) {
	e, err := lookup(info.Name)
	if err != nil {
		return "", err
	}
	return e.places.Download(ctx, url, progress)
}
