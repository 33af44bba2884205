//go:build amd64 && !purego

package tensor

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestPrefetchWBytes: every PREFETCHW that _asm/gen.go writes as bytes
// (Go's assembler has no mnemonic for it) disassembles as the PREFETCHW
// its line's comment names. A wrong byte would fetch another address, or
// decode as another instruction; no result would change, so no other test
// would see it.
func TestPrefetchWBytes(t *testing.T) {
	src, err := os.ReadFile("kernel_amd64.s")
	if err != nil {
		t.Fatal(err)
	}
	// Each distinct line of bytes, in a function of its own (the
	// disassembler loses its way in some AVX-512 encodings before them).
	probe := []string{"#include \"textflag.h\"", "TEXT ·probe(SB), NOSPLIT, $0"}
	want := map[int]string{} // the probe's line number: "512(AX)"
	have := map[string]bool{}
	for _, line := range strings.Split(string(src), "\n") {
		line = strings.TrimSpace(line)
		if _, op, ok := strings.Cut(line, "// PREFETCHW "); ok && !have[line] {
			have[line] = true
			probe = append(probe, "\t"+line)
			want[len(probe)] = op
		}
	}
	probe = append(probe, "\tRET", "")
	if len(want) < 2 {
		t.Fatalf("%d distinct PREFETCHWs in kernel_amd64.s, want one for each base register used", len(want))
	}
	if strings.Contains(string(src), "PREFETCHT2") {
		t.Fatal("kernel_amd64.s holds a PREFETCHT2, the generator's placeholder for PREFETCHW")
	}
	dir := t.TempDir()
	file, obj := filepath.Join(dir, "probe_amd64.s"), filepath.Join(dir, "probe.o")
	if err := os.WriteFile(file, []byte(strings.Join(probe, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	goroot, err := exec.Command(gobin, "env", "GOROOT").Output()
	if err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) []byte {
		cmd := exec.Command(gobin, args...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go %s: %v: %s", strings.Join(args, " "), err, stderr.String())
		}
		return out
	}
	run("tool", "asm", "-I", filepath.Join(strings.TrimSpace(string(goroot)), "pkg", "include"), "-p", "probe", "-o", obj, file)
	out := run("tool", "objdump", obj)
	line := regexp.MustCompile(`probe_amd64\.s:(\d+)\s+0x[0-9a-f]+\s+[0-9a-f]+\s+(.*?)\s*$`)
	seen := map[int]bool{}
	for _, l := range strings.Split(string(out), "\n") {
		m := line.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[1])
		op, ok := want[n]
		if !ok {
			continue
		}
		seen[n] = true
		if got := m[2]; !samePrefetchW(got, op) {
			t.Errorf("the bytes of PREFETCHW %s disassemble as %q", op, got)
		}
	}
	for n, op := range want {
		if !seen[n] {
			t.Errorf("PREFETCHW %s: its bytes are not in the disassembly (line %d)", op, n)
		}
	}
}

// samePrefetchW tells whether the disassembly dis ("PREFETCHW 0x200(AX)")
// is PREFETCHW op ("512(AX)").
func samePrefetchW(dis, op string) bool {
	operand, ok := strings.CutPrefix(dis, "PREFETCHW ")
	if !ok {
		return false
	}
	disp := func(s string) (int64, string, bool) {
		d, reg, ok := strings.Cut(s, "(")
		if d == "" {
			return 0, reg, ok
		}
		v, err := strconv.ParseInt(d, 0, 64)
		return v, reg, ok && err == nil
	}
	d1, r1, ok1 := disp(operand)
	d2, r2, ok2 := disp(op)
	return ok1 && ok2 && d1 == d2 && r1 == r2
}
