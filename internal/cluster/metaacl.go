package cluster

import (
	"errors"
	"maps"

	"github.com/cairn-db/cairn/internal/acl"
)

// applyACLOp applies an ACL change to the topology's users. Rules are applied here, in the
// meta group's apply, not by the node that ran the command, so two ACL SETUSER of one user on
// two nodes compose as they would on one server.
func applyACLOp(t *Topology, op *MetaOp, res *MetaResult) error {
	users := t.Users
	if t.UsersVersion == 0 {
		users = op.Users // the first change starts from the proposer's users
	}
	users = maps.Clone(users)
	if users == nil {
		users = map[string]string{}
	}
	switch op.Op {
	case "acl-setuser":
		base, ok := users[op.User]
		if !ok {
			base = op.Base
		}
		def, err := acl.Define(op.User, base, op.Rules, op.AllChans)
		if err != nil {
			return err
		}
		users[op.User] = def
	case "acl-deluser":
		for _, n := range op.Names {
			if n == "default" {
				return errors.New("The 'default' user cannot be removed")
			}
		}
		for _, n := range op.Names {
			if _, ok := users[n]; ok {
				delete(users, n)
				res.Count++
			}
		}
	case "acl-load":
		if _, err := acl.ParseDefinitions(op.Users); err != nil {
			return err
		}
		users = maps.Clone(op.Users)
	}
	t.Users = users
	t.UsersVersion++
	res.UsersVersion = t.UsersVersion
	return nil
}
