//go:build !linux

package capture

import (
	"io"
	"os"
)

// newRegularReader is for Linux only (see read_linux.go); elsewhere files are
// read with os.File.Read.
func newRegularReader(*os.File, os.FileInfo) io.Reader { return nil }
