package cifar10

import (
	"context"

	"github.com/cifarnet/cifarnet/dataset"
)

// The official binary archive (see ../shared/README.md).
const (
	ArchiveURL  = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
	ArchiveMD5  = "c32a1d4ab5d03f1284b67883e8d87530"
	ArchiveSize = 170052171
)

// Downloader is the shared downloader (resumed, bounded, verified).
type Downloader = dataset.Downloader

// EnsureCached returns the path of the archive in cacheDir, downloading it
// with d first if it is not there.
func EnsureCached(ctx context.Context, d *Downloader, cacheDir string) (string, error) {
	return dataset.Get(ctx, d, cacheDir, ArchiveName)
}
