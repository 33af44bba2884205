package safetensors

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestWriteCorpus regenerates testdata/fuzz/FuzzRead when
// CIFARNET_WRITE_CORPUS is set (the files are committed).
func TestWriteCorpus(t *testing.T) {
	if os.Getenv("CIFARNET_WRITE_CORPUS") == "" {
		t.Skip("set CIFARNET_WRITE_CORPUS=1 to regenerate testdata/fuzz")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzRead")
	os.MkdirAll(dir, 0o755)
	for i, s := range [][]byte{golden(), withHeader(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 4), withHeader(`{"__metadata__":{"k":"v"}}`, 0)} {
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed%d", i)), []byte(fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s)), 0o644)
	}
}
