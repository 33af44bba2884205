package oserr

import (
	"errors"
	"fmt"
	"os"
	"testing"
)

func TestBare(t *testing.T) {
	_, err := os.Open("/nonexistent/x")
	if got := Bare(err); !errors.Is(got, os.ErrNotExist) || got.Error() != "no such file or directory" {
		t.Fatalf("Bare(%v) = %v", err, got)
	}
	wrapped := fmt.Errorf("reading: %w", err)
	if got := Bare(wrapped); got.Error() != "no such file or directory" {
		t.Fatalf("Bare of a wrapped PathError = %v", got)
	}
	other := errors.New("boom")
	if Bare(other) != other {
		t.Fatal("Bare changed an error that is not a PathError")
	}
}
