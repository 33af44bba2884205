// Package tmpfs mounts small disks for the tests that fill one (Linux).
package tmpfs
