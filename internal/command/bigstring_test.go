package command

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/cairn-db/cairn/internal/keyspace"
	"github.com/cairn-db/cairn/internal/resp"
	"github.com/cockroachdb/pebble/v2"
)

// read runs a read command as an event loop does: against the engine itself, through the
// record cache, outside apply.
func (h *harness) read(args ...string) string {
	h.t.Helper()
	bargs := make([][]byte, len(args))
	for i, a := range args {
		bargs[i] = []byte(a)
	}
	cmd := Lookup(bargs[0])
	if cmd != nil && len(cmd.Subcommands) > 0 && len(bargs) > 1 {
		cmd = cmd.LookupSub(bargs[1])
	}
	if cmd == nil || cmd.Run == nil {
		h.t.Fatalf("no command %q", args[0])
	}
	tx := keyspace.NewTx(h.eng.DB(), nil, h.state.Physical(0), h.now)
	w := &resp.Writer{Proto: h.proto}
	c := &Ctx{Cmd: cmd, Args: bargs, W: w, Tx: tx, State: h.state, Now: h.now, Limits: h.limits}
	cmd.Run(c)
	return string(w.Buf)
}

// elemRecords counts the element records the engine holds (what a read sees: range
// deletions hide what they delete).
func (h *harness) elemRecords() int {
	h.t.Helper()
	it, err := h.eng.DB().NewIter(&pebble.IterOptions{LowerBound: []byte{'E'}, UpperBound: []byte{'F'}})
	if err != nil {
		h.t.Fatal(err)
	}
	defer it.Close()
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		n++
	}
	return n
}

// chunksOf is the number of chunks the key's record holds (expired or not), 0 if it is not a
// chunked string.
func (h *harness) chunksOf(key string) int {
	h.t.Helper()
	tx := keyspace.NewTx(h.eng.DB(), nil, h.state.Physical(0), 0) // time 0: nothing has expired
	e, err := tx.Lookup([]byte(key))
	if err != nil {
		h.t.Fatal(err)
	}
	if !e.Chunked {
		return 0
	}
	return int((e.Count + keyspace.ChunkSize - 1) / keyspace.ChunkSize)
}

// TestChunkedStringModel runs random string commands over values around the chunking threshold
// on two appliers: one at the current cluster version, which stores big strings in chunks, and
// one at version 3, which stores every string inline. Every reply must be the same, through
// apply and through the read path, and the chunked side must hold exactly the chunks of its
// live values: none left behind by DEL, overwrites, expiry, RENAME or FLUSHALL.
func TestChunkedStringModel(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(seed, seed))
	chunked, inline := newHarness(t), newHarness(t)
	inline.version = chunkVersion - 1
	keys := []string{"a", "b", "{a}c", "d"}
	sizes := []int{0, 5, keyspace.ChunkMin - 3, keyspace.ChunkMin, keyspace.ChunkMin + 1,
		keyspace.ChunkMin + keyspace.ChunkSize, keyspace.ChunkMin + 2*keyspace.ChunkSize + 7}
	value := func() string {
		n := sizes[rng.IntN(len(sizes))]
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('a' + rng.IntN(26))
		}
		if n > 0 && rng.IntN(3) == 0 {
			b[rng.IntN(n)] = 0
		}
		return string(b)
	}
	offset := func() string {
		return strconv.Itoa(rng.IntN(keyspace.ChunkMin + 3*keyspace.ChunkSize))
	}
	index := func() string {
		n := rng.IntN(keyspace.ChunkMin+3*keyspace.ChunkSize) - keyspace.ChunkMin/2
		return strconv.Itoa(n)
	}
	key := func() string { return keys[rng.IntN(len(keys))] }
	var dumped string
	for step := range 300 {
		var args []string
		reads := false
		switch r := rng.IntN(20); r {
		case 0, 1, 2:
			args = []string{"SET", key(), value()}
			if rng.IntN(3) == 0 {
				args = append(args, "GET")
			}
		case 3:
			args = []string{"APPEND", key(), value()}
		case 4:
			args = []string{"APPEND", key(), strings.Repeat("x", rng.IntN(keyspace.ChunkSize+2))}
		case 5:
			args = []string{"SETRANGE", key(), offset(), strings.Repeat("y", rng.IntN(1000)+1)}
		case 6, 7:
			args, reads = []string{"GETRANGE", key(), index(), index()}, true
		case 8:
			args, reads = []string{"GET", key()}, true
		case 9:
			args, reads = []string{"STRLEN", key()}, true
		case 10:
			args = []string{"DEL", key()}
		case 11:
			args = []string{"RENAME", key(), key()}
		case 12:
			args = []string{"COPY", key(), key(), "REPLACE"}
		case 13:
			args = []string{"PEXPIRE", key(), strconv.Itoa(rng.IntN(20) + 1)}
		case 14:
			k := key()
			args = []string{"DUMP", k}
			if got := chunked.do(args...); got != inline.do(args...) {
				t.Fatalf("step %d (seed %d): DUMP differs", step, seed)
			} else if strings.HasPrefix(got, "$") {
				_, rest, _ := strings.Cut(got, "\r\n")
				dumped = strings.TrimSuffix(rest, "\r\n")
			}
			if dumped == "" {
				continue
			}
			args = []string{"RESTORE", key(), "0", dumped, "REPLACE"}
		case 15:
			args = []string{"GETEX", key(), "PX", strconv.Itoa(rng.IntN(20) + 1)}
		case 16:
			args = []string{"GETDEL", key()}
		case 17:
			args = []string{"SETBIT", key(), strconv.Itoa(rng.IntN(8 * (keyspace.ChunkMin + 2*keyspace.ChunkSize))), "1"}
		case 18:
			ks := []string{"BITCOUNT", "GETBIT", "DIGEST", "OBJECT"}[rng.IntN(4)]
			switch ks {
			case "BITCOUNT":
				args = []string{ks, key()}
			case "GETBIT":
				args = []string{ks, key(), strconv.Itoa(rng.IntN(8 * keyspace.ChunkMin * 2))}
			case "DIGEST":
				args = []string{ks, key()}
			default:
				args = []string{ks, "ENCODING", key()}
			}
			reads = true
		case 19:
			if rng.IntN(4) == 0 {
				args = []string{"FLUSHALL"}
			} else {
				args = []string{"INCR", key()}
			}
		}
		got, want := chunked.do(args...), inline.do(args...)
		if got != want {
			t.Fatalf("step %d (seed %d): %s: chunked %s, inline %s", step, seed, describe(args), abbrev(got), abbrev(want))
		}
		if reads {
			if r := chunked.read(args...); r != want {
				t.Fatalf("step %d (seed %d): %s read outside apply: %s, want %s", step, seed, describe(args), abbrev(r), abbrev(want))
			}
		}
		if rng.IntN(8) == 0 {
			chunked.now += 10
			inline.now += 10
		}
		holds := 0
		for _, k := range keys {
			holds += chunked.chunksOf(k)
		}
		if n := chunked.elemRecords(); n != holds {
			t.Fatalf("step %d (seed %d): after %s the engine holds %d element records, the live values %d chunks", step, seed, describe(args), n, holds)
		}
		if n := inline.elemRecords(); n != 0 {
			t.Fatalf("step %d (seed %d): at version %d the engine holds %d element records", step, seed, inline.version, n)
		}
	}
	// Every key read back whole, and nothing left once they are gone.
	for _, k := range keys {
		if got, want := chunked.read("GET", k), inline.read("GET", k); got != want {
			t.Fatalf("GET %s: chunked %s, inline %s", k, abbrev(got), abbrev(want))
		}
	}
	chunked.do("FLUSHALL")
	if n := chunked.elemRecords(); n != 0 {
		t.Fatalf("after FLUSHALL the engine holds %d element records", n)
	}
}

// TestChunkedStringExpiry checks that an expired big string's chunks go with it, whether the
// sweeper or an access removes it.
func TestChunkedStringExpiry(t *testing.T) {
	h := newHarness(t)
	big := strings.Repeat("v", keyspace.ChunkMin+keyspace.ChunkSize+1)
	h.check("+OK\r\n", "SET", "k", big, "PX", "5")
	h.check("+OK\r\n", "SET", "j", big, "PX", "5")
	if n := h.elemRecords(); n != 12 {
		t.Fatalf("two values of 6 chunks: %d element records", n)
	}
	h.now += 10
	h.check(":0\r\n", "EXISTS", "k")
	h.check("$-1\r\n", "SET", "k", "small", "GET") // finds k expired on access
	h.check(":0\r\n", "DEL", "j")                  // j expired: removed, but not counted
	if n := h.elemRecords(); n != 0 {
		t.Fatalf("after both expired: %d element records", n)
	}
}

// TestChunkedStringRecords checks the record form: a big string is chunked, its metadata small,
// and OBJECT ENCODING, STRLEN and MEMORY USAGE answer without the value.
func TestChunkedStringRecords(t *testing.T) {
	h := newHarness(t)
	big := strings.Repeat("0123456789", keyspace.ChunkMin/10+1)
	h.check("+OK\r\n", "SET", "k", big)
	if n, want := h.elemRecords(), (len(big)+keyspace.ChunkSize-1)/keyspace.ChunkSize; n != want {
		t.Fatalf("%d element records, want %d", n, want)
	}
	h.check(fmt.Sprintf(":%d\r\n", len(big)), "STRLEN", "k")
	if got := h.read("OBJECT", "ENCODING", "k"); got != "$3\r\nraw\r\n" {
		t.Fatalf("OBJECT ENCODING = %q", got)
	}
	if got := h.do("MEMORY", "USAGE", "k"); !strings.HasPrefix(got, ":") || got < fmt.Sprintf(":%d", len(big)) {
		t.Fatalf("MEMORY USAGE = %q, want at least %d", got, len(big))
	}
	// A value that shrinks below the threshold goes back inline.
	h.check("+OK\r\n", "SET", "k", "small")
	if n := h.elemRecords(); n != 0 {
		t.Fatalf("inline again: %d element records", n)
	}
}

func describe(args []string) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		if len(a) > 40 {
			fmt.Fprintf(&b, "<%d bytes>", len(a))
		} else {
			b.WriteString(a)
		}
	}
	return b.String()
}

func abbrev(s string) string {
	if len(s) > 80 {
		return fmt.Sprintf("%q…(%d bytes)", s[:60], len(s))
	}
	return fmt.Sprintf("%q", s)
}
