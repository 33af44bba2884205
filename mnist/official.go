package mnist

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// The official files' SHA-256 sums, gzipped (as downloaded) and not (as
// gunzip leaves them). MNIST's gzipped sums are those of the files
// torchvision downloads (its MD5 list, torchvision/datasets/mnist.py, names
// the same files), Fashion-MNIST's are Keras's (FashionSHA256); the sums of
// the gunzipped files were computed from those files. Fashion-MNIST's
// gunzipped image files are not listed (they could not be fetched here to
// compute them): such a file is neither refused nor called unofficial
// (unlisted), and the labels read beside it are checked.
var officialSums = map[string]officialFile{
	// MNIST
	"440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609": {"mnist", TrainImages + ".gz"},
	"3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c": {"mnist", TrainLabels + ".gz"},
	"8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6": {"mnist", TestImages + ".gz"},
	"f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6": {"mnist", TestLabels + ".gz"},
	"ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db": {"mnist", TrainImages},
	"65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5": {"mnist", TrainLabels},
	"0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7": {"mnist", TestImages},
	"ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2": {"mnist", TestLabels},
	NPZSHA256: {"mnist", NPZName},
	// Fashion-MNIST
	FashionSHA256[TrainImages+".gz"]:                                   {"fashion_mnist", TrainImages + ".gz"},
	FashionSHA256[TrainLabels+".gz"]:                                   {"fashion_mnist", TrainLabels + ".gz"},
	FashionSHA256[TestImages+".gz"]:                                    {"fashion_mnist", TestImages + ".gz"},
	FashionSHA256[TestLabels+".gz"]:                                    {"fashion_mnist", TestLabels + ".gz"},
	"bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9": {"fashion_mnist", TrainLabels},
	"0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34": {"fashion_mnist", TestLabels},
}

// officialFile names an official file: its data set and its file name.
type officialFile struct{ set, file string }

// checkOfficial refuses a file whose SHA-256 is that of an official file of
// another data set, or of another of the set's files, than the one it is
// read as: MNIST's digits given as Fashion-MNIST would otherwise train
// with exit 0, every digit labelled as a garment. A file of the right
// official sum is read, and so is one of none (a user's own file in the
// format), with official false.
func checkOfficial(setName, name string, sum []byte) (official bool, err error) {
	o, ok := officialSums[hex.EncodeToString(sum)]
	if !ok {
		return false, nil
	}
	base := strings.TrimSuffix(filepath.Base(name), ".gz")
	if o.set == setName && strings.TrimSuffix(o.file, ".gz") == base {
		return true, nil
	}
	if o.set != setName {
		return false, fmt.Errorf("mnist: %s: is %s's official %s (sha256 %.12s...), not %s's: --data names the other data set's files", name, o.set, o.file, hex.EncodeToString(sum), setName)
	}
	return false, fmt.Errorf("mnist: %s: is %s's official %s (sha256 %.12s...), not its %s: the files are misnamed", name, o.set, o.file, hex.EncodeToString(sum), base)
}

// unlisted says that the official sum of a gunzipped file named base of
// the set is not known: Fashion-MNIST's gunzipped image files.
func unlisted(setName, base string, gzipped bool) bool {
	return setName == "fashion_mnist" && !gzipped && (base == TrainImages || base == TestImages)
}

// hashing returns a reader of f that feeds the SHA-256 sum h.
func hashing(f io.Reader) (io.Reader, hash.Hash) {
	h := sha256.New()
	return io.TeeReader(f, h), h
}

// fileSum is the SHA-256 of a file of at most maxNPZ bytes.
func fileSum(f *os.File) ([]byte, error) {
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, maxNPZ)); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}
