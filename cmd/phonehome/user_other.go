//go:build !unix

package main

import (
	"errors"
	"os"
)

// dropPrivileges: only Unix systems have users to drop to.
func dropPrivileges(string) error {
	return usageError{errors.New("--user: this system has no users to drop privileges to")}
}

// lockDir: no lock here; give each capture its own --checkpoint directory.
func lockDir(string) (*os.File, error) { return nil, nil }
