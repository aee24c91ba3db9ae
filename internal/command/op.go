package command

import (
	"encoding/binary"
	"errors"
)

// An operation is what a write puts in the log: the commands to run, the database they run in,
// the time the proposer assigned, and the protocol version the reply is written in. Every replica
// that applies it reaches the same bytes.
//
// Encoding (version 3):
//
//	version(1) proto(1) db(1) flags(1) time(8) client(8) shard(8) cluster-version(4)
//	ncmds(uvarint) { nargs(uvarint) { len(uvarint) bytes }* }*
//
// client is the token of the connection that proposed it (node and client id), which names the
// waiter if a blocking command in it blocks; 0 for the server's own operations. shard is the
// shard it was proposed to (0: any, for tests and tools): a replica refuses an operation of
// another shard rather than apply a misrouted write. cluster-version is the version of apply's
// behaviour the proposer relied on; a node whose binary does not know it stops instead of
// applying it differently from the others (see ClusterVersion).
const opVersion = 3

const opHeaderLen = 32

// ClusterVersion is the newest version of apply's behaviour this binary implements (its code
// version). An apply change that would make replicas disagree — a new meta operation or
// shard-log command, a changed effect or reply — bumps it, and the change applies only to
// operations of the new version: proposers stamp operations with the cluster's active version,
// which advances only once every node runs a binary that knows it (cluster/version.go).
//
//	1: every binary before the version gate, which stamped 1 whatever it implemented; the
//	   last of them had the ACL in the meta group and slot moves (__slotout, __slotin,
//	   __slotack, __slotown), so version 1 includes them: gating them would let a node not yet
//	   upgraded apply what the upgraded ones refuse.
//	2: the version gate itself (the cluster-version meta operation); cancelling slot moves
//	   (the meta operations slot-migrate-cancel and slot-migrate-cancelled, the shard-log
//	   command __slotcancel, and migration epochs: __slotout's epoch argument).
//	3: shard splits and merges (the meta operations shard-create, shard-split, shard-merge,
//	   shard-retire) and slot-migrated handing over a run of slots (Start..End).
//	4: moving the meta group's replicas (the meta operations meta-move-start, meta-move-added,
//	   meta-move-done, meta-move-cancel).
//	5: big strings stored in chunks (keyspace/chunks.go): apply of an older version writes
//	   every string inline, so a replica still running an older binary writes the same
//	   records as the others.
const ClusterVersion = 5

// chunkVersion is the cluster version from which apply stores big strings in chunks.
const chunkVersion = 5

// slotCancelVersion is the cluster version that introduced cancelling slot moves.
const slotCancelVersion = 2

// Op flags.
const (
	// OpMulti marks a MULTI/EXEC block: the replies are wrapped in one array.
	OpMulti = 1 << iota
	// OpSystem marks an operation the server generates itself (expiry sweeps); the client
	// never sees its reply.
	OpSystem
)

// Op is a decoded operation. Args alias the encoded bytes.
type Op struct {
	OpHeader
	Cmds [][][]byte
}

// OpHeader is everything in an operation but its commands.
type OpHeader struct {
	Proto  int
	DB     int
	Flags  byte
	Time   int64
	Client uint64
	Shard  uint64
	// Version is the cluster version of the operation; 0 is ClusterVersion.
	Version uint32
}

var errBadOp = errors.New("command: malformed operation")

// AppendOp encodes an operation of one or more commands, proposed by no particular client.
func AppendOp(dst []byte, proto, db int, flags byte, time int64, cmds ...[][]byte) []byte {
	return AppendOpHeader(dst, OpHeader{Proto: proto, DB: db, Flags: flags, Time: time}, cmds...)
}

// AppendOpHeader encodes an operation.
func AppendOpHeader(dst []byte, h OpHeader, cmds ...[][]byte) []byte {
	if h.Version == 0 {
		h.Version = ClusterVersion
	}
	dst = append(dst, opVersion, byte(h.Proto), byte(h.DB), h.Flags)
	dst = binary.BigEndian.AppendUint64(dst, uint64(h.Time))
	dst = binary.BigEndian.AppendUint64(dst, h.Client)
	dst = binary.BigEndian.AppendUint64(dst, h.Shard)
	dst = binary.BigEndian.AppendUint32(dst, h.Version)
	dst = binary.AppendUvarint(dst, uint64(len(cmds)))
	for _, args := range cmds {
		dst = binary.AppendUvarint(dst, uint64(len(args)))
		for _, a := range args {
			dst = binary.AppendUvarint(dst, uint64(len(a)))
			if n := len(dst); len(a) > 0 && cap(dst)-n >= len(a) && &dst[:n+1][n] == &a[0] {
				// The argument already lies where it goes (the server encoded the operation
				// around a big value in its request buffer): do not copy it onto itself.
				dst = dst[:n+len(a)]
				continue
			}
			dst = append(dst, a...)
		}
	}
	return dst
}

// OpArgLayout reports, for an operation of the one command args, where argument k's bytes
// start in its encoding and how long the encoding is.
func OpArgLayout(args [][]byte, k int) (start, size int) {
	size = opHeaderLen + uvarintLen(1) + uvarintLen(len(args))
	for i, a := range args {
		size += uvarintLen(len(a))
		if i == k {
			start = size
		}
		size += len(a)
	}
	return start, size
}

func uvarintLen(n int) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutUvarint(b[:], uint64(n))
}

// OpSize is the encoded size of an operation of one command, to size buffers.
func OpSize(args [][]byte) int {
	n := opHeaderLen + 2*binary.MaxVarintLen64
	for _, a := range args {
		n += binary.MaxVarintLen64 + len(a)
	}
	return n
}

// DecodeOp decodes b into op, reusing op's slices.
func DecodeOp(b []byte, op *Op) error {
	if len(b) < opHeaderLen || b[0] != opVersion {
		return errBadOp
	}
	op.Proto, op.DB, op.Flags = int(b[1]), int(b[2]), b[3]
	op.Time = int64(binary.BigEndian.Uint64(b[4:12]))
	op.Client = binary.BigEndian.Uint64(b[12:20])
	op.Shard = binary.BigEndian.Uint64(b[20:28])
	op.Version = binary.BigEndian.Uint32(b[28:32])
	b = b[opHeaderLen:]
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return errBadOp
	}
	b = b[k:]
	cmds := op.Cmds[:0]
	for i := uint64(0); i < n; i++ {
		nargs, k := binary.Uvarint(b)
		if k <= 0 || nargs > uint64(len(b)) {
			return errBadOp
		}
		b = b[k:]
		var args [][]byte
		if int(i) < cap(cmds) {
			args = cmds[:i+1][i][:0]
		}
		for j := uint64(0); j < nargs; j++ {
			l, k := binary.Uvarint(b)
			if k <= 0 || l > uint64(len(b)-k) {
				return errBadOp
			}
			args = append(args, b[k:k+int(l):k+int(l)])
			b = b[k+int(l):]
		}
		cmds = append(cmds, args)
	}
	if len(b) != 0 {
		return errBadOp
	}
	op.Cmds = cmds
	return nil
}
