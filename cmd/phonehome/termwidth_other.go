//go:build !unix

package main

import "io"

// terminalWidth is 0: the width is not asked for here, and prose is cut at
// its usual length.
func terminalWidth(io.Writer) int { return 0 }
