//go:build !linux

package dirswap

import "os"

// exchange renames a aside, b into its place, and the old a to b: where
// renameat2 does not exist, there is a moment when a is missing (never
// mixed).
func exchange(a, b string) error {
	tmp := a + ".exchange"
	if err := os.Rename(a, tmp); err != nil {
		return err
	}
	if err := os.Rename(b, a); err != nil {
		os.Rename(tmp, a)
		return err
	}
	return os.Rename(tmp, b)
}
