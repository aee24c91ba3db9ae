package server

import (
	"slices"
	"testing"

	"github.com/cairn-db/cairn/internal/command"
)

func TestBulkArray(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		ok   bool
	}{
		{"*0\r\n", []string{}, true},
		{"*2\r\n$1\r\na\r\n$0\r\n\r\n", []string{"a", ""}, true},
		{"*1\r\n$4\r\na\r\nb\r\n", []string{"a\r\nb"}, true},
		{"-ERR x\r\n", nil, false},
		{"*2\r\n$1\r\na\r\n", nil, false},
		{"*1\r\n$5\r\nab\r\n", nil, false},
		{"*1\r\n:1\r\n", nil, false},
		{"*1\r\n$1\r\na\r\nextra", nil, false},
	} {
		got, ok := bulkArray([]byte(tc.in))
		var strs []string
		if got != nil {
			strs = []string{}
			for _, g := range got {
				strs = append(strs, string(g))
			}
		}
		if ok != tc.ok || (ok && !slices.Equal(strs, tc.want)) {
			t.Errorf("bulkArray(%q) = %q, %v; want %q, %v", tc.in, strs, ok, tc.want, tc.ok)
		}
	}
}

// Every read command whose cost may grow with the data has a cost function, or is listed
// here with why it always runs inline; a new read command must be classified.
func TestOffLoopClassification(t *testing.T) {
	inline := map[string]string{
		"geodist": "O(1)", "geohash": "O(keys named)", "geopos": "O(keys named)",
		"randomkey": "O(1)", "object|encoding": "O(1)", "object|freq": "O(1)",
		"object|idletime": "O(1)", "object|refcount": "O(1)",
		"xinfo|consumers": "O(consumers), small", "xinfo|groups": "O(groups), small",
		"memory|usage": "bounded by SAMPLES",
		"pfcount":      "may ask to run as a write (caching a cardinality)",
		"xread":        "blocking, and may ask to run as a write",
		"__watch":      "internal",
		"ft._list":     "O(indexes)", "ft.info": "O(1)", "ft.explain": "parses only",
		"ft.tagvals": "O(tags)",
	}
	var all []*command.Command
	for _, c := range command.All() {
		all = append(all, c)
		for _, sub := range c.Subcommands {
			all = append(all, sub)
		}
	}
	for _, c := range all {
		if c.Run == nil || c.Flags&command.FlagReadOnly == 0 || c.Flags&(command.FlagWrite|command.FlagFast|command.FlagInternal) != 0 {
			continue // clients cannot call internal commands (the shards' side of a cluster FT.SEARCH)
		}
		has := c.ID < len(readCosts) && readCosts[c.ID] != nil
		_, listed := inline[c.Name]
		switch {
		case !has && !listed:
			t.Errorf("read command %s is neither given a cost (offloop.go) nor listed as inline", c.Name)
		case has && listed:
			t.Errorf("read command %s has a cost and is listed as inline", c.Name)
		}
	}
	if readCosts[command.Lookup([]byte("sort")).ID] == nil {
		t.Error("SORT without STORE runs as a read and needs a cost")
	}
}
