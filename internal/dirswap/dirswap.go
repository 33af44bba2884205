// Package dirswap exchanges two directories in one step, so that a reader
// of either path sees one whole directory, the old or the new, never a mix.
package dirswap

// Exchange swaps the directories a and b, which must both exist on the
// same file system.
func Exchange(a, b string) error { return exchange(a, b) }
