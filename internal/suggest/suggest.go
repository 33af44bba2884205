// Package suggest finds the name a mistyped one was meant to be, for an
// error's "did you mean ...?": a setting's or a key's name with a letter
// wrong, missing, extra or swapped, or '_' written for '-'.
package suggest

import "strings"

// maxName bounds the names compared: the distance costs the product of
// the lengths, and no setting's name is longer.
const maxName = 64

// Closest returns the name among known that name was most likely meant to
// be, "" when none is near enough to be obvious (one edit in a name of 3
// or 4 letters, two in a longer one, none in a shorter) or two are
// equally near. '-' and '_'
// count as the same letter and case is ignored, so that train_samples
// finds train-samples.
func Closest(name string, known []string) string {
	if len(name) > maxName {
		return ""
	}
	limit := 2
	switch {
	case len(name) <= 2:
		limit = 0 // one edit of "lt" is half of it: lr or a guess
	case len(name) <= 4:
		limit = 1
	}
	best, bestD, tie := "", limit+1, false
	for _, k := range known {
		if len(k) > maxName {
			continue
		}
		d := distance(fold(name), fold(k))
		switch {
		case d < bestD:
			best, bestD, tie = k, d, false
		case d == bestD:
			tie = true
		}
	}
	if tie || best == name {
		return ""
	}
	return best
}

func fold(s string) string { return strings.ToLower(strings.ReplaceAll(s, "_", "-")) }

// distance is the optimal string alignment distance: insertions,
// deletions, substitutions and swaps of two adjacent letters, each one
// edit (a swap is the commonest typo: lr-shcedule).
func distance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
