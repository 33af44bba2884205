package mnist

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
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
		if o := officialSums[hex.EncodeToString(h.Sum(nil))]; o != (officialFile{"mnist", f}) {
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
		_, err := checkOfficial(tt.set, tt.name, sum(tt.sum))
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s as %s: %v, want %q", tt.name, tt.set, err, tt.want)
		}
	}
}

// TestNotOfficialNamed: Load names every file it read whose sum is not an
// official file's (a user's own data), and no official file: the real
// MNIST files, and official label files beside a user's images.
func TestNotOfficialNamed(t *testing.T) {
	real := sharedMNIST(t)
	if d, err := Load(Info(), real, 100, 100); err != nil || len(d.NotOfficial) != 0 || d.NotOfficialWarning() != "" {
		t.Fatalf("the official files: %v, named %v", err, d.NotOfficial)
	}
	own := writeDir(t, []byte{5, 0, 4}, []byte{7, 2}, true)
	d, err := Load(Info(), own, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, f := range []string{TrainImages, TrainLabels, TestImages, TestLabels} {
		want = append(want, filepath.Join(own, f+".gz"))
	}
	if !slices.Equal(d.NotOfficial, want) {
		t.Errorf("a user's files: named %v, want %v", d.NotOfficial, want)
	}
	w := d.NotOfficialWarning()
	if !strings.Contains(w, want[0]) || !strings.Contains(w, "are not the official MNIST files") || !strings.Contains(w, "not comparable with published") || strings.Contains(w, "\n") {
		t.Errorf("warning %q", w)
	}
	// Not asked for, not read: evaluate reads no training files.
	if d, err := Load(Info(), own, 0, 2); err != nil || !slices.Equal(d.NotOfficial, want[2:]) {
		t.Errorf("test images only: %v, named %v, want %v", err, d.NotOfficial, want[2:])
	}
	// The official test files beside a user's training files.
	mixed := t.TempDir()
	for _, f := range []string{TrainImages, TrainLabels} {
		b, _ := os.ReadFile(filepath.Join(own, f+".gz"))
		os.WriteFile(filepath.Join(mixed, f+".gz"), b, 0o644)
	}
	for _, f := range []string{TestImages, TestLabels} {
		b, _ := os.ReadFile(filepath.Join(real, f+".gz"))
		os.WriteFile(filepath.Join(mixed, f+".gz"), b, 0o644)
	}
	if d, err := Load(Info(), mixed, 3, 10); err != nil || !slices.Equal(d.NotOfficial, []string{filepath.Join(mixed, TrainImages+".gz"), filepath.Join(mixed, TrainLabels+".gz")}) {
		t.Errorf("official test files beside a user's: %v, named %v", err, d.NotOfficial)
	}
	// A user's .npz is named once, though read for both parts.
	npz := filepath.Join("testdata", "tiny.npz")
	if d, err := Load(Info(), npz, 3, 2); err != nil || !slices.Equal(d.NotOfficial, []string{npz}) || !strings.Contains(d.NotOfficialWarning(), npz+" is not the official MNIST file") {
		t.Errorf("a user's .npz: %v, named %v, warning %q", err, d.NotOfficial, d.NotOfficialWarning())
	}
}

// TestFashionNotOfficial: Fashion-MNIST's genuine label files are
// official; a user's gzipped image file is named; a gunzipped image file,
// whose official sum is not known, is not.
func TestFashionNotOfficial(t *testing.T) {
	dir := fashionLabelsDir(t)
	d, err := Load(FashionInfo(), dir, 10, 10)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{filepath.Join(dir, TrainImages+".gz")}; !slices.Equal(d.NotOfficial, want) {
		t.Errorf("named %v, want %v", d.NotOfficial, want)
	}
	if w := d.NotOfficialWarning(); !strings.HasPrefix(w, "fashion_mnist: ") || !strings.Contains(w, "is not the official Fashion-MNIST file") {
		t.Errorf("warning %q", w)
	}
}
