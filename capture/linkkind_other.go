//go:build !linux

package capture

// linkKinds: only Linux says, through rtnetlink.
func linkKinds() map[string]string { return nil }
