package dirswap

import (
	"os"
	"path/filepath"
	"testing"
)

func TestExchange(t *testing.T) {
	root := t.TempDir()
	a, b := filepath.Join(root, "a"), filepath.Join(root, "b")
	os.Mkdir(a, 0o755)
	os.Mkdir(b, 0o755)
	os.WriteFile(filepath.Join(a, "f"), []byte("old"), 0o644)
	os.WriteFile(filepath.Join(b, "f"), []byte("new"), 0o644)
	if err := Exchange(a, b); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(a, "f")); string(got) != "new" {
		t.Fatalf("a holds %q after the exchange", got)
	}
	if got, _ := os.ReadFile(filepath.Join(b, "f")); string(got) != "old" {
		t.Fatalf("b holds %q after the exchange", got)
	}
	if err := Exchange(a, filepath.Join(root, "missing")); err == nil {
		t.Fatal("exchange with a missing directory succeeded")
	}
}
