package main

import (
	"fmt"
	"os/user"
	"strconv"
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
