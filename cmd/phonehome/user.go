//go:build unix

package main

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// account is what dropping privileges needs of a user.
type account struct {
	uid, gid int
	groups   []int
}

// lookupUser finds name (or a numeric uid) in the user database.
func lookupUser(name string) (account, error) {
	u, err := user.Lookup(name)
	if err != nil {
		if _, nerr := strconv.Atoi(name); nerr == nil {
			u, err = user.LookupId(name)
		}
	}
	if err != nil {
		return account{}, fmt.Errorf("no such user: %w", err)
	}
	var a account
	if a.uid, err = strconv.Atoi(u.Uid); err != nil {
		return account{}, fmt.Errorf("uid %q is not a number", u.Uid)
	}
	if a.gid, err = strconv.Atoi(u.Gid); err != nil {
		return account{}, fmt.Errorf("gid %q is not a number", u.Gid)
	}
	ids, err := u.GroupIds()
	if err != nil {
		ids = []string{u.Gid}
	}
	for _, id := range ids {
		if g, err := strconv.Atoi(id); err == nil {
			a.groups = append(a.groups, g)
		}
	}
	return a, nil
}

// dropPrivileges makes the process run as the user name, as tcpdump -Z does:
// its groups, then its group, then its user. Go applies each to every
// thread.
func dropPrivileges(name string) error {
	u, err := lookupUser(name)
	if err != nil {
		return usageError{fmt.Errorf("--user %q: %w", name, err)}
	}
	if err := syscall.Setgroups(u.groups); err != nil {
		return fmt.Errorf("--user %s: setgroups: %w (dropping privileges needs root or CAP_SETUID and CAP_SETGID)", name, err)
	}
	if err := syscall.Setgid(u.gid); err != nil {
		return fmt.Errorf("--user %s: setgid: %w", name, err)
	}
	if err := syscall.Setuid(u.uid); err != nil {
		return fmt.Errorf("--user %s: setuid: %w", name, err)
	}
	return nil
}

// lockDir takes an exclusive lock on dir/.lock: two captures on one
// checkpoint directory would overwrite each other's checkpoints, and one run
// would be lost. The lock holds while the returned file stays open: the
// caller keeps it until the capture ends (an *os.File no longer referenced
// is closed by its finalizer at the next garbage collection, which released
// the lock mid-capture).
func lockDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, ".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("--checkpoint: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("--checkpoint %s: another phonehome capture is using it (it holds %s): stop that one, or give another directory", dir, path)
		}
		return nil, fmt.Errorf("--checkpoint %s: lock %s: %w", dir, path, err)
	}
	return f, nil
}
