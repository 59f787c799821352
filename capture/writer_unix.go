//go:build unix

package capture

import "syscall"

// errNoSpace is the error of a write to a full file system.
var errNoSpace error = syscall.ENOSPC

// linkGone reports whether the open file fd has been removed from every
// directory (its link count is 0): removed itself, or with its directory.
// It allocates nothing.
func linkGone(fd int) (bool, error) {
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return false, err
	}
	return st.Nlink == 0, nil
}
