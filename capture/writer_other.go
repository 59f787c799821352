//go:build !unix

package capture

import "errors"

// errNoSpace matches no error here: the writer names a full disk on unix.
var errNoSpace = errors.New("no space left on device")

// linkGone cannot tell here whether a file was removed: it says not.
func linkGone(fd int) (bool, error) { return false, nil }
