package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cifarnet/cifarnet/cifar10"
	"github.com/cifarnet/cifarnet/dataset"
	"github.com/cifarnet/cifarnet/datasets"
)

// dataFlags locate the data: --data, --offline.
type dataFlags struct {
	path    string
	offline bool
}

func addDataFlags(fs *pflag.FlagSet, d *dataFlags) {
	fs.StringVar(&d.path, "data", "", "where the data set's files are: for cifar10 a cifar-10-batches-bin or cifar-10-batches-py directory or their .tar.gz; for cifar100 a cifar-100-binary or cifar-100-python directory or their .tar.gz; for mnist a directory of the four IDX files (gzipped or not) or Keras's mnist.npz; for fashion_mnist a directory of its four IDX files (default: $"+cifar10.EnvVar+" for cifar10, $CIFARNET_CIFAR100, $CIFARNET_MNIST, $CIFARNET_FASHION_MNIST; then cifarnet's cache, then Keras's ~/.keras/datasets; then a download into the cache); the MNIST family's files are compared with the official SHA-256 sums: another set's are refused, a user's own read with a warning")
	fs.BoolVar(&d.offline, "offline", false, "never download: fail, naming the places looked at, if the data is not found")
}

// find returns the location of the data set info describes, downloading
// the official files into the cache when nothing is found (unless
// offline), with progress on w.
func (d dataFlags) find(info dataset.Info, w io.Writer) (string, error) {
	return datasets.Find(context.Background(), info, d.path, d.offline, downloadProgress(w))
}

// downloadProgress shows each file's bytes, rate and ETA: a live bar on a
// terminal, a plain line every 10% elsewhere.
func downloadProgress(w io.Writer) func(file string) func(done, total int64) {
	return func(file string) func(done, total int64) { return fileProgress(file, w) }
}

func fileProgress(title string, w io.Writer) func(done, total int64) {
	if isTerminal(w) {
		var bar *progressbar.ProgressBar
		return func(done, total int64) {
			if bar == nil {
				bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(w), progressbar.OptionShowBytes(true),
					progressbar.OptionSetDescription("Downloading "+title), progressbar.OptionSetPredictTime(true),
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
			fmt.Fprintf(w, "Downloading %s (%.1f MB)\n", title, float64(total)/1e6)
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
	var url, name string
	cmd := &cobra.Command{
		Use:   "download",
		Short: "Download a data set's official files into the cache (resumable, verified)",
		Long: `Download the official files of a data set (--dataset) into cifarnet's
cache (os.UserCacheDir()/cifarnet) unless they are already there:
  cifar10        cifar-10-binary.tar.gz from www.cs.toronto.edu (MD5 and size checked)
  cifar100       cifar-100-python.tar.gz from www.cs.toronto.edu (SHA-256 as Keras checks it)
  mnist          mnist.npz from Keras's storage.googleapis.com folder (SHA-256 as Keras checks it)
  fashion_mnist  its four .gz files from the same folder, into fashion-mnist/ (SHA-256 as Keras)
The transfer resumes where an interrupted one stopped (HTTP Range), the size
and checksum are verified, and only a verified file is moved into place.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			info, err := datasets.Lookup(name, "")
			if err != nil {
				return usagef("--%v", err) // the name is --dataset's
			}
			dest, err := datasets.Download(context.Background(), info, url, downloadProgress(cmd.ErrOrStderr()))
			var dns *net.DNSError
			var op *net.OpError
			if errors.As(err, &dns) || errors.As(err, &op) {
				// No network: say what to do without it, and where the
				// files go to be found without --data.
				there := "in cifarnet's cache"
				if dest, err := datasets.Destination(info); err == nil {
					there = "at " + dest
				}
				return fmt.Errorf("%w; without a network, get them by other means and put them %s (train looks there), or give their place to train with --data (or --url a reachable mirror)", err, there)
			}
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), dest)
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "dataset", datasets.Default, "the data set: "+strings.Join(datasets.Names(), ", "))
	cmd.Flags().StringVar(&url, "url", "", "where to download from instead of the official location: a mirror of the file (cifar10, cifar100, mnist's mnist.npz) or of the folder holding the files (fashion_mnist); the checksum is checked")
	return cmd
}
