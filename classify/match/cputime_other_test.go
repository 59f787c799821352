//go:build !linux

package match_test

import "time"

func threadCPU() (time.Duration, bool) { return 0, false }
