package server

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/resp"
)

// A write whose one big argument arrived in a big request buffer is encoded around it where it
// lies: the operation decodes to the request's arguments, the value's bytes are not copied,
// and the other arguments, whose bytes in the buffer were overwritten, still read as sent.
func TestInPlaceProposal(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	big := make([]byte, bigRequest+rng.IntN(1000))
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	other := bytes.Repeat([]byte("y"), bigRequest)
	for _, tc := range []struct {
		name    string
		args    [][]byte
		inPlace bool
	}{
		{"value last", [][]byte{[]byte("SET"), []byte("key"), big}, true},
		{"arguments after it", [][]byte{[]byte("SET"), []byte("key"), big, []byte("PX"), []byte("123456")}, true},
		{"value first", [][]byte{big, []byte("x")}, true},
		{"long arguments before it", [][]byte{[]byte("HSET"), bytes.Repeat([]byte("k"), 70000), []byte("f"), big}, true},
		{"two big arguments", [][]byte{[]byte("MSET"), []byte("a"), big, []byte("b"), other}, false},
		{"no big argument", [][]byte{[]byte("SET"), []byte("a"), []byte("b")}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var req bytes.Buffer
			fmt.Fprintf(&req, "*%d\r\n", len(tc.args))
			for _, a := range tc.args {
				fmt.Fprintf(&req, "$%d\r\n%s\r\n", len(a), a)
			}
			cl := &Client{}
			cl.newBig(req.Len(), req.Len())
			copy(cl.big, req.Bytes())
			var r resp.Reader
			r.MaxBulkLen = 1 << 30
			args, n, _, err := r.Parse(cl.big)
			if err != nil || n != req.Len() {
				t.Fatalf("parse: %v, %d of %d bytes", err, n, req.Len())
			}
			hdr := command.OpHeader{Proto: 3, DB: 2, Time: 1234, Client: 7, Shard: 9}
			data := inPlaceProposal(cl, hdr, [][][]byte{args})
			if (data != nil) != tc.inPlace {
				t.Fatalf("encoded in place: %v, want %v", data != nil, tc.inPlace)
			}
			if data == nil {
				return
			}
			if cl.bigBack != nil {
				t.Error("the buffer may still be used for another operation")
			}
			if again := inPlaceProposal(cl, hdr, [][][]byte{args}); again != nil {
				t.Error("a second operation was encoded over the first")
			}
			var op command.Op
			if err := command.DecodeOp(data, &op); err != nil {
				t.Fatal(err)
			}
			if op.OpHeader != (command.OpHeader{Proto: 3, DB: 2, Time: 1234, Client: 7, Shard: 9, Version: command.ClusterVersion}) {
				t.Errorf("header %+v", op.OpHeader)
			}
			if len(op.Cmds) != 1 || !slices.EqualFunc(op.Cmds[0], tc.args, bytes.Equal) {
				t.Fatal("the operation's arguments differ from the request's")
			}
			if !slices.EqualFunc(args, tc.args, bytes.Equal) {
				t.Fatal("the request's arguments were overwritten")
			}
			for i, a := range op.Cmds[0] {
				if len(a) >= bigRequest {
					if off, ok := offsetIn(cl.big, a); !ok || &a[0] != &args[i][0] {
						t.Errorf("the big argument was copied (in the buffer: %v at %d)", ok, off)
					}
				}
			}
		})
	}
}
