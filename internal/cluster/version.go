package cluster

import (
	"errors"
	"fmt"

	"github.com/cairn-db/cairn/internal/command"
)

// Rolling upgrades: the cluster version.
//
// A binary implements apply behaviour up to its code version (command.ClusterVersion, bumped
// whenever apply — of the meta group or of a shard — changes in a way that would make two
// replicas disagree: a new meta operation, a new shard-log command, a changed reply or effect).
// The topology records the active cluster version: the behaviour every node of the cluster
// supports. Operations newer than it are refused, at proposal (a clear error at once) and at
// apply (the authority: every replica refuses the same entry, so none diverges); nodes stamp
// shard-log operations with it, so a node still running the old binary can apply them.
//
// Every node advertises its code version in gossip. The meta group's leader advances the
// cluster version (the cluster-version operation) only when every node not removed
// advertises at least the new version; a node whose binary is older than the active cluster
// version refuses to start, and a running one that sees the cluster advance past it stops,
// since it could not apply the log.

// CodeVersion is the newest cluster version this binary implements.
const CodeVersion = command.ClusterVersion

// opVersions is the cluster version that introduced each meta operation. An operation not
// listed needs CodeVersion: a new operation is refused until every node runs a binary that
// knows it, unless it is listed here with an older version. When CodeVersion is bumped, list
// the operations that the previous version already had.
var opVersions = map[string]uint32{
	// Version 1 is every binary from before the gate (command.ClusterVersion): the last of
	// them had the ACL in the meta group and slot moves, so they are version 1 too — were they
	// gated, a node not yet upgraded would apply what the upgraded ones refuse.
	"init": 1, "leader": 1, "add-node": 1, "remove-node": 1, "set-replica": 1, "drain": 1,
	"move-start": 1, "move-added": 1, "move-done": 1, "move-cancel": 1, "set-preferred": 1,
	"acl-setuser": 1, "acl-deluser": 1, "acl-load": 1, "slot-migrate": 1, "slot-migrated": 1,
	// The operation that advances the version is accepted at version 1, or the cluster could
	// never leave it; the meta leader proposes it only once every node runs version 2, so no
	// binary that does not know it is left to apply it.
	"cluster-version": 1,
	// Version 2: cancelling slot moves.
	"slot-migrate-cancel": 2, "slot-migrate-cancelled": 2,
	// Version 3: shard-create, shard-split, shard-merge, shard-retire; a slot-migrated over a
	// run of slots is proposed only from version 3 on.
	"shard-create": 3, "shard-split": 3, "shard-merge": 3, "shard-retire": 3,
	// Version 4: moving the meta group's replicas (metamove.go).
	"meta-move-start": 4, "meta-move-added": 4, "meta-move-done": 4, "meta-move-cancel": 4,
	// Version 5 has no meta operation of its own: it changes shard apply (big strings in
	// chunks, command.ClusterVersion).
}

// opNames are how errors name meta operations to users.
var opNames = map[string]string{
	"slot-migrate-cancel": "CLUSTER MIGRATE-SLOTS-CANCEL", "slot-migrate-cancelled": "CLUSTER MIGRATE-SLOTS-CANCEL",
}

// OpVersion is the cluster version a meta operation needs.
func OpVersion(op string) uint32 {
	if v, ok := opVersions[op]; ok {
		return v
	}
	return CodeVersion
}

// VersionError is the error of an operation the active cluster version does not support yet.
func VersionError(active uint32, what string) error {
	return fmt.Errorf("cluster version %d does not support %s yet: upgrade every node first", active, what)
}

// ErrBinaryTooOld is wrapped by the error of a node whose binary is older than the cluster
// version: it cannot apply the cluster's log as the others do, so it must not run.
var ErrBinaryTooOld = errors.New("this binary is older than the cluster version")

// TooOld returns the error for a node whose code version is below the active cluster version,
// nil if it can run.
func TooOld(code, active uint32) error {
	if active <= code {
		return nil
	}
	return fmt.Errorf("%w: it implements cluster version %d and the cluster runs version %d; start a binary of version %d or newer",
		ErrBinaryTooOld, code, active, active)
}

// Active is the topology's cluster version (1 for a topology that records none).
func (t *Topology) Active() uint32 { return max(t.ClusterVersion, 1) }

// CheckOp refuses a meta operation the topology's cluster version does not support yet.
func (t *Topology) CheckOp(op string) error {
	if v := OpVersion(op); v > t.Active() {
		what, ok := opNames[op]
		if !ok {
			what = "the meta operation " + op
		}
		return VersionError(t.Active(), what)
	}
	return nil
}

// applyVersionOp applies cluster-version: the active version becomes op.ClusterVersion (it
// never goes back). A node whose binary (code) is older stops applying: the operation says
// every node runs a newer one, so this node is out of date.
func applyVersionOp(t *Topology, op *MetaOp, code uint32) (bool, error) {
	if op.ClusterVersion <= t.Active() {
		return false, nil
	}
	if err := TooOld(code, op.ClusterVersion); err != nil {
		return false, err
	}
	t.ClusterVersion = op.ClusterVersion
	return true, nil
}

// SetCodeVersion sets the code version the meta group's apply holds this node to (tests
// lower it to play an older binary; 0 means CodeVersion).
func (m *Meta) SetCodeVersion(v uint32) {
	m.mu.Lock()
	m.code = v
	m.mu.Unlock()
}

func (m *Meta) codeVersion() uint32 {
	if m.code == 0 {
		return CodeVersion
	}
	return m.code
}

// NextVersion is the cluster version the meta leader may advance to: the lowest code version
// every node not removed advertises, if above the active one. advertised maps node IDs to the
// version each advertises (0: a binary that advertises none, i.e. version 1); a node missing
// from it holds the version where it is, since nothing says what it runs.
func NextVersion(t *Topology, advertised map[uint64]uint32) (uint32, bool) {
	next := uint32(0)
	for _, n := range t.LiveNodes() {
		v, ok := advertised[n.ID]
		if !ok {
			return 0, false
		}
		v = max(v, 1)
		if next == 0 || v < next {
			next = v
		}
	}
	if next <= t.Active() {
		return 0, false
	}
	return next, true
}
