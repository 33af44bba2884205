package quote

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestShort(t *testing.T) {
	if got := Short("dense/kernel"); got != `"dense/kernel"` {
		t.Fatalf("Short of a short value = %s", got)
	}
	long := strings.Repeat("é", 1<<20) // 2 MiB, two bytes a character
	got := Short(long)
	if len(got) > 2*Max+40 || !strings.Contains(got, "(2097152 bytes)") || !utf8.ValidString(got) {
		t.Fatalf("Short of 2 MiB = %d bytes: %.200s", len(got), got)
	}
	if got := Short("a\nb"); got != `"a\nb"` {
		t.Fatalf("Short keeps control characters escaped: %s", got)
	}
}

func TestLine(t *testing.T) {
	if Line("short", 10) != "short" {
		t.Fatal("Line changed a short message")
	}
	got := Line(strings.Repeat("x", 100), 10)
	if got != "xxxxxxxxxx... (90 more bytes)" {
		t.Fatalf("Line = %q", got)
	}
}
