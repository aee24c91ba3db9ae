package shard

import (
	"path/filepath"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/replica"
	"github.com/cairn-db/cairn/internal/resp"
)

func openTest(t testing.TB, dir string) *Shard {
	t.Helper()
	s, err := Open(Options{ID: 1, Dir: dir, BlockCacheSize: 8 << 20, RecordCacheSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	s.SetLog(replica.NewLocal(s, s.Applied()))
	return s
}

func write(t testing.TB, s *Shard, args ...string) string {
	t.Helper()
	argv := make([][]byte, len(args))
	for i, a := range args {
		argv[i] = []byte(a)
	}
	done := make(chan string, 1)
	op := command.AppendOp(nil, 2, 0, 0, 1000, argv)
	if err := s.Log().Propose(replica.Proposal{Data: op, Done: func(r []byte, err error) {
		if err != nil {
			t.Error(err)
		}
		done <- string(r)
	}}); err != nil {
		t.Fatal(err)
	}
	return <-done
}

func read(t *testing.T, s *Shard, v *View, args ...string) string {
	t.Helper()
	argv := make([][]byte, len(args))
	for i, a := range args {
		argv[i] = []byte(a)
	}
	var r Reader
	w := &resp.Writer{Proto: 2}
	r.Run(s, v, command.Lookup(argv[0]), argv, 0, w, 1000)
	return string(w.Buf)
}

// TestRestoreKeepsReadersOnTheOldView installs a checkpoint while a reader holds the current
// view: the reader keeps reading the old engine, new readers see the checkpoint, and the old
// generation's directory goes once the reader lets go.
func TestRestoreKeepsReadersOnTheOldView(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, filepath.Join(dir, "shard"))
	defer s.Close()
	write(t, s, "set", "k", "before")
	ck := filepath.Join(dir, "ck")
	if err := s.Checkpoint(ck); err != nil {
		t.Fatal(err)
	}
	write(t, s, "set", "k", "after")
	write(t, s, "set", "only-after", "x")

	held := s.Acquire()
	applied, err := s.Restore(ck)
	if err != nil {
		t.Fatal(err)
	}
	if applied != 1 {
		t.Fatalf("Restore applied = %d, want 1 (the checkpoint held one write)", applied)
	}
	if got := read(t, s, held, "get", "k"); got != "$5\r\nafter\r\n" {
		t.Fatalf("GET k on the held view = %q, want the old engine's value", got)
	}
	cur := s.Acquire()
	if got := read(t, s, cur, "get", "k"); got != "$6\r\nbefore\r\n" {
		t.Fatalf("GET k on the new view = %q, want the checkpoint's value", got)
	}
	if got := read(t, s, cur, "get", "only-after"); got != "$-1\r\n" {
		t.Fatalf("GET only-after on the new view = %q, want nil", got)
	}
	cur.Release()
	oldDir := held.dir
	if _, err := vfs.Default.Stat(oldDir); err != nil {
		t.Fatalf("the old generation went while a reader held it: %v", err)
	}
	held.Release()
	<-held.closed
	if _, err := vfs.Default.Stat(oldDir); err == nil {
		t.Fatalf("the old generation %s is still there after its last reader", oldDir)
	}
	// Writes go to the new engine, and survive a reopen.
	write(t, s, "set", "k", "later")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, filepath.Join(dir, "shard"))
	v := s.Acquire()
	defer v.Release()
	if got := read(t, s, v, "get", "k"); got != "$5\r\nlater\r\n" {
		t.Fatalf("GET k after reopening = %q, want later", got)
	}
	if v.gen != 2 {
		t.Fatalf("reopened at generation %d, want 2", v.gen)
	}
}

// TestOpenRemovesStaleGenerations: an install a crash interrupted leaves a generation CURRENT
// does not name; the next open removes it and keeps the live one.
func TestOpenRemovesStaleGenerations(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shard")
	s := openTest(t, dir)
	write(t, s, "set", "k", "v")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, "engine-7")
	if err := vfs.Default.MkdirAll(stale, 0o755); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, dir)
	defer s.Close()
	if _, err := vfs.Default.Stat(stale); err == nil {
		t.Fatal("a stale generation survived Open")
	}
	v := s.Acquire()
	defer v.Release()
	if got := read(t, s, v, "get", "k"); got != "$1\r\nv\r\n" {
		t.Fatalf("GET k = %q, want v", got)
	}
}
