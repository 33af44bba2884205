package mnist

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOtherSetsFilesRefused: MNIST's official files read as Fashion-MNIST
// (gzipped or not), and Fashion-MNIST's labels read as MNIST, are refused
// naming the file and the set it belongs to (the first trained with exit 0,
// every digit labelled as a garment).
func TestOtherSetsFilesRefused(t *testing.T) {
	src := sharedMNIST(t)
	if _, err := Load(FashionInfo(), src, 100, 100); err == nil || !strings.Contains(err.Error(), "is mnist's official") || !strings.HasPrefix(err.Error(), "fashion_mnist: ") {
		t.Errorf("MNIST's files as Fashion-MNIST: %v", err)
	}
	raw := t.TempDir()
	for _, f := range []string{TrainImages, TrainLabels, TestImages, TestLabels} {
		g, err := os.Open(filepath.Join(src, f+".gz"))
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(g)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := os.Create(filepath.Join(raw, f))
		h := sha256.New()
		buf := make([]byte, 1<<16)
		for {
			n, err := zr.Read(buf)
			out.Write(buf[:n])
			h.Write(buf[:n])
			if err != nil {
				break
			}
		}
		out.Close()
		g.Close()
		// The gunzipped sums in the table are those of these files.
		if o := official[hex.EncodeToString(h.Sum(nil))]; o != (officialFile{"mnist", f}) {
			t.Errorf("gunzipped %s: the table says %+v", f, o)
		}
	}
	if _, err := Load(FashionInfo(), raw, 100, 100); err == nil || !strings.Contains(err.Error(), "is mnist's official "+TrainImages+" ") {
		t.Errorf("MNIST's gunzipped files as Fashion-MNIST: %v", err)
	}
	// Still read as what they are.
	if _, err := Load(Info(), raw, 100, 100); err != nil {
		t.Errorf("MNIST's gunzipped files as MNIST: %v", err)
	}
	// One label file of the other set among the set's own.
	lab := filepath.Join("..", "..", "shared", "fashion-mnist-labels", TestLabels+".gz")
	b, err := os.ReadFile(lab)
	if err != nil {
		t.Skipf("Fashion-MNIST labels: %v", err)
	}
	os.Remove(filepath.Join(raw, TestLabels))
	os.WriteFile(filepath.Join(raw, TestLabels+".gz"), b, 0o644)
	if _, err := Load(Info(), raw, 100, 100); err == nil || !strings.Contains(err.Error(), "is fashion_mnist's official "+TestLabels+".gz") {
		t.Errorf("Fashion-MNIST's test labels as MNIST's: %v", err)
	}
}

// TestCheckOfficial: the rule on sums alone: the right official file, a
// file of no official sum (a user's or a test's own) are read; another
// set's, or another name's, are not.
func TestCheckOfficial(t *testing.T) {
	sum := func(s string) []byte { b, _ := hex.DecodeString(s); return b }
	tests := []struct {
		set, name, sum, want string
	}{
		{"mnist", "d/" + NPZName, NPZSHA256, ""},
		{"fashion_mnist", "d/" + NPZName, NPZSHA256, "is mnist's official mnist.npz"},
		{"fashion_mnist", "d/" + TrainLabels + ".gz", FashionSHA256[TrainLabels+".gz"], ""},
		{"fashion_mnist", "d/" + TrainLabels, FashionSHA256[TrainLabels+".gz"], ""},
		{"fashion_mnist", "d/" + TestLabels + ".gz", FashionSHA256[TrainLabels+".gz"], "the files are misnamed"},
		{"mnist", "d/" + TrainLabels + ".gz", FashionSHA256[TrainLabels+".gz"], "not mnist's"},
		{"fashion_mnist", "d/" + TrainLabels, strings.Repeat("ab", 32), ""},
	}
	for _, tt := range tests {
		err := checkOfficial(tt.set, tt.name, sum(tt.sum))
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s as %s: %v, want %q", tt.name, tt.set, err, tt.want)
		}
	}
}
