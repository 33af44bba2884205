package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cifarnet/cifarnet/cifar10"
)

// dataFlags locate the data: --data, --offline.
type dataFlags struct {
	path    string
	offline bool
}

func addDataFlags(fs *pflag.FlagSet, d *dataFlags) {
	fs.StringVar(&d.path, "data", "", "CIFAR-10 location: a cifar-10-batches-bin or cifar-10-batches-py directory, or their .tar.gz (default: $"+cifar10.EnvVar+", then cifarnet's cache, then Keras's ~/.keras/datasets, then a download into the cache)")
	fs.BoolVar(&d.offline, "offline", false, "never download: fail, naming the places looked at, if the data is not found")
}

// find returns the data's location, downloading the official archive into
// the cache when nothing is found (unless offline), with progress on w.
func (d dataFlags) find(w io.Writer) (string, error) {
	return cifar10.Find(context.Background(), d.path, d.offline, downloader(w))
}

func downloader(w io.Writer) *cifar10.Downloader {
	return &cifar10.Downloader{URL: cifar10.ArchiveURL, MD5: cifar10.ArchiveMD5, Progress: downloadProgress(w)}
}

// downloadProgress shows bytes, rate and ETA: a live bar on a terminal,
// a plain line every 10% elsewhere.
func downloadProgress(w io.Writer) func(done, total int64) {
	if isTerminal(w) {
		var bar *progressbar.ProgressBar
		return func(done, total int64) {
			if bar == nil {
				bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(w), progressbar.OptionShowBytes(true),
					progressbar.OptionSetDescription("Downloading CIFAR-10"), progressbar.OptionSetPredictTime(true),
					progressbar.OptionShowTotalBytes(true), progressbar.OptionThrottle(100*time.Millisecond),
					progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }))
				bar.Set64(done)
			}
			bar.Set64(done)
		}
	}
	var start time.Time
	next := 0.0
	return func(done, total int64) {
		if start.IsZero() {
			start = time.Now()
			fmt.Fprintf(w, "Downloading CIFAR-10 (%.1f MB)\n", float64(total)/1e6)
		}
		if total <= 0 {
			return
		}
		frac := float64(done) / float64(total)
		if frac < next && done != total {
			return
		}
		next = frac + 0.1
		rate := float64(done) / time.Since(start).Seconds()
		eta := time.Duration(float64(total-done) / max(rate, 1) * float64(time.Second)).Round(time.Second)
		fmt.Fprintf(w, "  %3.0f%%  %.1f of %.1f MB  %.1f MB/s  ETA %v\n", 100*frac, float64(done)/1e6, float64(total)/1e6, rate/1e6, eta)
	}
}

func newDownloadCmd() *cobra.Command {
	var url string
	cmd := &cobra.Command{
		Use:   "download",
		Short: "Download the CIFAR-10 binary archive into the cache (resumable, verified)",
		Long: `Download the official cifar-10-binary.tar.gz into cifarnet's cache
(os.UserCacheDir()/cifarnet) unless it is already there: the transfer
resumes where an interrupted one stopped (HTTP Range), the size and MD5
are verified, and only a verified file is moved into place.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cache, err := cifar10.CacheDir()
			if err != nil {
				return err
			}
			d := downloader(cmd.ErrOrStderr())
			d.URL = url
			dest, err := cifar10.EnsureCached(context.Background(), d, cache)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), dest)
			return nil
		},
	}
	cmd.Flags().StringVar(&url, "url", cifar10.ArchiveURL, "where to download from (a mirror of the official archive; the MD5 is checked)")
	return cmd
}
