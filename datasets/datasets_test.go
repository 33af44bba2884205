package datasets

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLookup(t *testing.T) {
	for _, n := range Names() {
		info, err := Lookup(n, "")
		if err != nil || info.Name != n || info.NumClasses() < 2 || info.Features() < 1 || info.TrainSize < 1 || info.TestSize < 1 {
			t.Errorf("%s: %+v %v", n, info, err)
		}
	}
	if info, err := Lookup("", ""); err != nil || info.Name != "cifar10" {
		t.Errorf("empty name (runs saved before data sets had names): %+v %v", info, err)
	}
	// Refusals name the setting as train.Config's JSON and an experiment
	// do (a flag is the command's to name).
	for _, c := range []struct{ name, mode, arg, want string }{
		{"imagenet", "", "dataset", `dataset "imagenet": want one of cifar10, cifar100, mnist`},
		{"mnist", "coarse", "label_mode", `label_mode "coarse": only cifar100 has label modes`},
		{"cifar100", "medium", "label_mode", `label_mode "medium": want fine or coarse`},
	} {
		_, err := Lookup(c.name, c.mode)
		var ae *ArgError
		if !errors.As(err, &ae) || ae.Arg != c.arg || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("Lookup(%q, %q): %v, want an ArgError %q", c.name, c.mode, err, c.want)
		}
	}
	if c, err := Lookup("cifar100", "coarse"); err != nil || c.NumClasses() != 20 || c.LabelMode != "coarse" {
		t.Errorf("cifar100 coarse: %+v %v", c, err)
	}
	if c, err := Lookup("cifar100", ""); err != nil || c.NumClasses() != 100 || c.LabelMode != "fine" {
		t.Errorf("cifar100 (Keras's default, fine): %+v %v", c, err)
	}
	m, _ := Lookup("mnist", "")
	if m.Shape.Height != 28 || m.Channels != 1 || m.Features() != 784 {
		t.Errorf("mnist shape %+v", m.Shape)
	}
}

// Every data set's download has a published checksum, so nothing is ever
// used unverified.
func TestEveryDownloadIsVerified(t *testing.T) {
	for _, e := range entries() {
		if len(e.places.Files) == 0 {
			t.Errorf("%s: no download", e.info.Name)
		}
		for _, f := range e.places.Files {
			if f.SHA256 == "" && f.MD5 == "" || !strings.HasPrefix(f.URL, "https://") {
				t.Errorf("%s: %s: URL %q, no checksum or not https", e.info.Name, f.Name, f.URL)
			}
		}
	}
}

// A mirror serving another file than Keras's mnist.npz is refused.
func TestMNISTMirrorChecked(t *testing.T) {
	h := t.TempDir()
	t.Setenv("HOME", h)
	t.Setenv("XDG_CACHE_HOME", filepath.Join(h, "cache"))
	t.Setenv("CIFARNET_MNIST", "")
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("PK\x03\x04 not mnist")) }))
	defer s.Close()
	info, _ := Lookup("mnist", "")
	_, err := Download(context.Background(), info, s.URL+"/mnist.npz", nil)
	if err == nil || !strings.Contains(err.Error(), "SHA-256") {
		t.Fatalf("wrong file from a mirror: %v", err)
	}
	if _, err := os.Stat(filepath.Join(h, "cache", "cifarnet", "mnist.npz")); !os.IsNotExist(err) {
		t.Fatal("the wrong file is in the cache")
	}
}
