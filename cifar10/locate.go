package cifar10

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/cifarnet/cifarnet/dataset"
	"github.com/cifarnet/cifarnet/internal/regular"
)

// EnvVar names the environment variable that points at the data when no
// explicit location is given.
const EnvVar = "CIFARNET_DATA"

// Places says where CIFAR-10 is looked for when no location is given:
// $CIFARNET_DATA, then cifarnet's cache (an extracted cifar-10-batches-bin,
// then the archive), then Keras's cache (~/.keras/datasets:
// cifar-10-batches-py, then cifar-10-python.tar.gz); and what is downloaded
// when it is nowhere: the official binary archive, with d's settings (its
// URL, checksum and size are the official ones when empty).
func Places(d Downloader) dataset.Places {
	d.URL = cmp.Or(d.URL, ArchiveURL)
	if d.MD5 == "" && d.SHA256 == "" {
		d.MD5 = ArchiveMD5
	}
	if d.URL == ArchiveURL {
		d.Size = cmp.Or(d.Size, ArchiveSize)
	}
	return dataset.Places{Title: "CIFAR-10", EnvVar: EnvVar,
		Cache: []string{DirName, ArchiveName}, Keras: []string{PyDirName, PyArchiveName},
		Want:  "a " + DirName + " or " + PyDirName + " directory or their .tar.gz",
		Files: []dataset.Remote{{Name: ArchiveName, Downloader: d}}, Found: ArchiveName}
}

// Find returns the data's location: the explicit path, else the first of
// the Places that exists, else (unless offline) the official archive
// downloaded into cifarnet's cache with d. A wrong $CIFARNET_DATA is
// reported, not replaced by a download.
func Find(ctx context.Context, explicit string, offline bool, d *Downloader) (string, error) {
	src, err := Places(*d).Find(ctx, explicit, offline, nil)
	if err != nil {
		return "", fmt.Errorf("cifar10: %w", err)
	}
	return src, nil
}

// ReadClassNames reads batches.meta.txt from a data directory, falling back
// to ClassNames when the file is absent (as inside an archive read).
func ReadClassNames(dir string) []string {
	b, err := regular.ReadFile(filepath.Join(dir, MetaFile), 1<<16)
	names := ClassNames[:]
	if err != nil {
		return names
	}
	var got []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			got = append(got, l)
		}
	}
	if len(got) != NumClasses {
		return names
	}
	return got
}
