package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPrefetchWBytes: prefetchWBytes encodes PREFETCHW as GNU as does
// (the expected bytes are as's, disassembled by objdump), for base
// registers that need a REX prefix, a SIB byte or a displacement.
func TestPrefetchWBytes(t *testing.T) {
	for _, tt := range []struct {
		base string
		disp int64
		want []byte
	}{
		{"AX", 512, []byte{0x0f, 0x0d, 0x88, 0x00, 0x02, 0x00, 0x00}},
		{"R8", 512, []byte{0x41, 0x0f, 0x0d, 0x88, 0x00, 0x02, 0x00, 0x00}},
		{"SP", -8, []byte{0x0f, 0x0d, 0x4c, 0x24, 0xf8}},
		{"R12", 64, []byte{0x41, 0x0f, 0x0d, 0x4c, 0x24, 0x40}},
		{"BP", 0, []byte{0x0f, 0x0d, 0x4d, 0x00}},
		{"R13", 127, []byte{0x41, 0x0f, 0x0d, 0x4d, 0x7f}},
		{"CX", -128, []byte{0x0f, 0x0d, 0x49, 0x80}},
		{"SI", 128, []byte{0x0f, 0x0d, 0x8e, 0x80, 0x00, 0x00, 0x00}},
		{"DI", -129, []byte{0x0f, 0x0d, 0x8f, 0x7f, 0xff, 0xff, 0xff}},
		{"R15", 1<<31 - 1, []byte{0x41, 0x0f, 0x0d, 0x8f, 0xff, 0xff, 0xff, 0x7f}},
	} {
		got, err := prefetchWBytes(tt.base, tt.disp)
		if err != nil || !bytes.Equal(got, tt.want) {
			t.Errorf("PREFETCHW %d(%s): % x, %v; want % x", tt.disp, tt.base, got, err, tt.want)
		}
	}
	for _, bad := range []struct {
		base string
		disp int64
	}{{"X0", 0}, {"AX", 1 << 31}, {"SB", 0}} {
		if b, err := prefetchWBytes(bad.base, bad.disp); err == nil {
			t.Errorf("PREFETCHW %d(%s): % x, want an error", bad.disp, bad.base, b)
		}
	}
}

// TestPrefetchWRewrite: every placeholder is rewritten, and a
// PREFETCHT2 of a form not rewritten fails the generation rather than
// ship as a read prefetch.
func TestPrefetchWRewrite(t *testing.T) {
	dir := t.TempDir()
	write := func(text string) string {
		path := filepath.Join(dir, "k.s")
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	path := write("loop:\n\tPREFETCHT2 512(AX)\n\tPREFETCHT2 (R12)\n\tVMOVUPS (CX), Z4\n")
	if err := prefetchW(path); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	want := "loop:\n\tBYTE $0x0f; BYTE $0x0d; BYTE $0x88; BYTE $0x00; BYTE $0x02; BYTE $0x00; BYTE $0x00 // PREFETCHW 512(AX)\n" +
		"\tBYTE $0x41; BYTE $0x0f; BYTE $0x0d; BYTE $0x4c; BYTE $0x24; BYTE $0x00 // PREFETCHW (R12)\n\tVMOVUPS (CX), Z4\n"
	if string(got) != want {
		t.Errorf("rewritten:\n%s\nwant:\n%s", got, want)
	}
	for _, form := range []string{"\tPREFETCHT2 512(AX) \n", "l:\tPREFETCHT2 64(AX)\n", "\tPREFETCHT2 (AX)(BX*4)\n", "\tPREFETCHT2 x+8(FP)\n"} {
		path := write(form)
		if err := prefetchW(path); err == nil || !strings.Contains(err.Error(), "not rewritten") {
			t.Errorf("%q: %v, want a placeholder not rewritten", form, err)
		}
	}
}
