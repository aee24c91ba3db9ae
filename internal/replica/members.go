package replica

import (
	"encoding/json"
	"sort"
)

// Member is a replica of a shard's group as the replicated membership table knows it.
type Member struct {
	// ID is the replica ID: it names this member in the group's Raft and is never given to
	// another member of the group, so a node that leaves and later hosts the group again does
	// so as a new member.
	ID uint64 `json:"id"`
	// Node is the ID of the node hosting the replica; 0 in a table written before replicas
	// had IDs of their own, where the replica ID was the node's (Members.apply fills it in).
	Node uint64 `json:"node,omitempty"`
	// Addr is the node's client address (host:port); BusAddr its node-to-node bus address.
	Addr    string `json:"addr"`
	BusAddr string `json:"bus"`
	// Removed marks a replica that left; its ID is never given out again.
	Removed bool `json:"removed,omitempty"`
}

// Members is the membership table of a shard. It changes only by applying membership entries,
// so every replica holds the same table at the same index; replaying an entry is harmless.
type Members struct {
	List []Member `json:"members"`
	// MaxID is the highest replica ID ever admitted, removed ones included.
	MaxID uint64 `json:"max_id"`
}

// memberChange is the context of a membership entry.
type memberChange struct {
	Op     string `json:"op"` // "learner", "promote", "remove"
	Member Member `json:"member"`
}

// Get returns the member with id.
func (m Members) Get(id uint64) (Member, bool) {
	for _, x := range m.List {
		if x.ID == id {
			return x, true
		}
	}
	return Member{}, false
}

// ByNode returns the member the node hosts (not removed).
func (m Members) ByNode(node uint64) (Member, bool) {
	for _, x := range m.List {
		if x.Node == node && !x.Removed {
			return x, true
		}
	}
	return Member{}, false
}

func (m *Members) apply(c memberChange) {
	if c.Member.Node == 0 {
		c.Member.Node = c.Member.ID
	}
	if c.Member.ID > m.MaxID {
		m.MaxID = c.Member.ID
	}
	for i := range m.List {
		if m.List[i].ID == c.Member.ID {
			if c.Op == "remove" {
				m.List[i].Removed = true
			} else if c.Member.Addr != "" {
				m.List[i].Addr, m.List[i].BusAddr = c.Member.Addr, c.Member.BusAddr
			}
			return
		}
	}
	mem := c.Member
	mem.Removed = c.Op == "remove"
	m.List = append(m.List, mem)
	sort.Slice(m.List, func(i, j int) bool { return m.List[i].ID < m.List[j].ID })
}

func (m *Members) encode() []byte {
	b, _ := json.Marshal(m)
	return b
}

func decodeMembers(b []byte) (Members, error) {
	var m Members
	if len(b) == 0 {
		return m, nil
	}
	err := json.Unmarshal(b, &m)
	for i := range m.List {
		if m.List[i].Node == 0 {
			m.List[i].Node = m.List[i].ID
		}
	}
	return m, err
}

func (m Members) clone() Members {
	return Members{List: append([]Member(nil), m.List...), MaxID: m.MaxID}
}
