// Package quote shortens values quoted in error messages: an error about
// a crafted input names a short prefix of the offending value, never the
// whole (one such value can be megabytes long).
package quote

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Max is the most bytes of a value that Short keeps.
const Max = 64

// Short returns s quoted as Go's %q does, cut to its first Max bytes (on a
// character boundary) with the length of the whole when it is longer.
func Short(s string) string {
	if len(s) <= Max {
		return strconv.Quote(s)
	}
	cut := Max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s... (%d bytes)", strconv.Quote(s[:cut]), len(s))
}

// Line cuts a one-line message to at most max bytes, saying how much was
// left out: the last guard before a message reaches the terminal.
func Line(msg string, max int) string {
	if len(msg) <= max {
		return msg
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return fmt.Sprintf("%s... (%d more bytes)", msg[:cut], len(msg)-cut)
}
