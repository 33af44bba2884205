package onnx

import (
	"encoding/json"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cifarnet/cifarnet/cifar10"
	"github.com/cifarnet/cifarnet/nn"
	"github.com/cifarnet/cifarnet/onnx/onnxtest"
	"github.com/cifarnet/cifarnet/tensor"
)

// TestWebPageInChromium opens docs/onnx/index.html in headless Chromium,
// with onnxruntime-web served from its npm package in place of the CDN
// (these machines have no internet), on an exported model and test images
// saved as 32x32 PNG: the page's probabilities must agree with cifarnet's to
// 1e-5 (drawn at its own size, an image's pixels reach the model unchanged).
func TestWebPageInChromium(t *testing.T) {
	browser := onnxtest.Chromium(t)
	dist := onnxtest.WebDist(t)
	page, err := os.ReadFile("../docs/onnx/index.html")
	if err != nil {
		t.Fatal(err)
	}
	cdn := "https://cdn.jsdelivr.net/npm/onnxruntime-web@" + onnxtest.PackageVersion(t, "onnxruntime-web") + "/dist/"
	if !strings.Contains(string(page), cdn) {
		t.Fatalf("docs/onnx/index.html does not load %s, the version onnx/ort/package.json pins", cdn)
	}
	page = []byte(strings.ReplaceAll(string(page), cdn, "/ort/"))

	const n = 3
	model, want, _ := imageFixture(t, n, 7)
	dir := filepath.Dir(model)
	cj, _ := json.Marshal(describe(cifarArch))
	if err := os.WriteFile(filepath.Join(dir, "model.json"), cj, 0o644); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/ort/", http.StripPrefix("/ort/", http.FileServer(http.Dir(dist))))
	mux.Handle("/", http.FileServer(http.Dir(dir)))
	mux.HandleFunc("/index.html", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	probsRE := regexp.MustCompile(`<pre id="probabilities"[^>]*>([^<]*)</pre>`)
	statusRE := regexp.MustCompile(`<p id="status">([^<]*)</p>`)
	for i := range n {
		url := srv.URL + fmt.Sprintf("/index.html?model=model.onnx&image=img%d.png", i)
		out, err := exec.Command(browser, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=20000",
			"--dump-dom", url).Output()
		if err != nil {
			t.Fatalf("chromium: %v", err)
		}
		dom := string(out)
		m := probsRE.FindStringSubmatch(dom)
		if m == nil || m[1] == "" {
			t.Fatalf("image %d: no probabilities on the page; status %q", i, statusRE.FindStringSubmatch(dom))
		}
		var got []float32
		if err := json.Unmarshal([]byte(m[1]), &got); err != nil {
			t.Fatalf("image %d: %q: %v", i, m[1], err)
		}
		onnxtest.Compare(t, fmt.Sprintf("web page, image %d", i), got, want[i*10:(i+1)*10], 10, 1e-5)
		if !strings.Contains(dom, "<td>"+cifar10.ClassNames[onnxtest.Argmax(want[i*10:(i+1)*10])]+"</td>") {
			t.Errorf("image %d: the page does not name the most probable class", i)
		}
	}
}

// cifarArch is a small network for CIFAR-10's images.
var cifarArch = nn.Architecture{Inputs: cifar10.Features, Hidden: []int{64, 32}, Activation: "elu", Init: "he_normal", Classes: cifar10.NumClasses}

// imageFixture exports a cifarArch model with random weights from seed
// (uint8 input) and saves the first n test images as 32x32 PNG files
// img0.png, ... beside it; it returns the model file, cifarnet's
// probabilities for the images and the images' file names.
func imageFixture(t *testing.T, n int, seed uint64) (model string, want []float32, images []string) {
	t.Helper()
	set := testImages(t, n)
	m, err := nn.New(cifarArch, seed)
	if err != nil {
		t.Fatal(err)
	}
	want = make([]float32, n*cifarArch.Classes)
	e := tensor.NewEngine(1)
	defer e.Close()
	m.Predict(e, set.Float32(), cifarArch.Inputs, n, want)
	model, _ = writeModel(t, m, describe(cifarArch), Uint8)
	for i := range n {
		name := filepath.Join(filepath.Dir(model), fmt.Sprintf("img%d.png", i))
		f, err := os.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(f, set.Image(i)); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		images = append(images, name)
	}
	return model, want, images
}
