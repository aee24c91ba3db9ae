package command

import (
	"errors"
	"testing"

	"github.com/cairn-db/cairn/internal/replica"
)

// TestOpEnvelope: an operation carries its shard and cluster version; a replica refuses one of
// another shard (as every replica of the shard does, so they stay identical), and a binary
// stops at one of a newer cluster version instead of applying it differently.
func TestOpEnvelope(t *testing.T) {
	h := newHarness(t)
	h.app.Shard = 7
	apply := func(hdr OpHeader, args ...string) (string, error) {
		bargs := make([][]byte, len(args))
		for i, a := range args {
			bargs[i] = []byte(a)
		}
		h.index++
		hdr.Proto, hdr.Time = 2, h.now
		results := make([][]byte, 1)
		err := h.app.Apply([]replica.Entry{{Index: h.index, Data: AppendOpHeader(nil, hdr, bargs)}}, results)
		return string(results[0]), err
	}
	var op Op
	if err := DecodeOp(AppendOpHeader(nil, OpHeader{Shard: 7, Version: 3, Client: 9}, [][]byte{[]byte("ping")}), &op); err != nil || op.Shard != 7 || op.Version != 3 || op.Client != 9 {
		t.Fatalf("round trip: %+v, %v", op.OpHeader, err)
	}
	if got, err := apply(OpHeader{Shard: 7}, "set", "k", "v"); err != nil || got != "+OK\r\n" {
		t.Fatalf("SET for this shard = %q, %v", got, err)
	}
	if got, err := apply(OpHeader{Shard: 8}, "set", "k", "other"); err != nil || got != "-ERR operation for shard 8 reached shard 7; not applied\r\n" {
		t.Fatalf("SET for shard 8 = %q, %v", got, err)
	}
	h.check("$1\r\nv\r\n", "get", "k")
	if _, err := apply(OpHeader{Shard: 7, Version: ClusterVersion + 1}, "set", "k", "newer"); !errors.Is(err, ErrClusterVersion) {
		t.Fatalf("an operation of a newer cluster version: err = %v, want ErrClusterVersion", err)
	}
	h.check("$1\r\nv\r\n", "get", "k")
}
