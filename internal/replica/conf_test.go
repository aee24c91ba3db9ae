package replica

import (
	"errors"
	"testing"
	"time"
)

// Raft appends a membership change proposed while another is pending as an empty entry, without
// an error. The second change must fail at once (it is in no entry), not wait for
// ProposalTimeout to learn it. Found by the deterministic simulation (tests/sim) while node
// replacement was added to it: a replacement waited out the proposal timeout, and the run did
// not converge.
func TestRaftConcurrentMembershipChangeFailsFast(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *HostConfig) { cfg.ProposalTimeout = time.Hour })
	c.write("set a 1")
	l := c.leader()
	first, second := make(chan error, 1), make(chan error, 1)
	// The second is proposed in the same round as the first or soon after, while the first is
	// still pending: Raft replaces it.
	l.r.AddLearner(Member{Addr: "node4"}, func(_ Member, err error) { first <- err })
	l.r.AddLearner(Member{Addr: "node5"}, func(_ Member, err error) { second <- err })
	select {
	case err := <-second:
		if !errors.Is(err, errConfPending) {
			t.Fatalf("second change: %v, want errConfPending", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the second membership change was not answered")
	}
	if err := <-first; err != nil {
		t.Fatalf("first change: %v", err)
	}
}
