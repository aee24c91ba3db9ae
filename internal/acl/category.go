package acl

import (
	"sync"

	"github.com/cairn-db/cairn/internal/command"
)

// Categories are the ACL command categories, in the order ACL CAT lists them.
var Categories = []string{
	"keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
	"hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous",
	"connection", "transaction", "scripting",
}

var (
	catOnce sync.Once
	catIDs  map[string][]int
)

// categoryIDs returns the IDs of the commands (and subcommands) in a category.
func categoryIDs(cat string) ([]int, bool) {
	catOnce.Do(func() {
		catIDs = make(map[string][]int, len(Categories))
		for _, c := range Categories {
			catIDs[c] = []int{}
		}
		for _, c := range command.ByID() {
			if c.Flags&command.FlagInternal != 0 {
				continue
			}
			for _, cat := range c.Categories {
				if ids, ok := catIDs[cat]; ok {
					catIDs[cat] = append(ids, c.ID)
				}
			}
		}
	})
	ids, ok := catIDs[cat]
	return ids, ok
}

// CategoryCommands lists the names of the commands in a category, for ACL CAT; ok is false for
// an unknown category.
func CategoryCommands(cat string) ([]string, bool) {
	ids, ok := categoryIDs(cat)
	if !ok {
		return nil, false
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = command.ByID()[id].Name
	}
	return out, true
}
