package keyspace

import (
	"bytes"
	"fmt"
	"testing"
)

func TestArenaCopies(t *testing.T) {
	var a arena
	src := []byte("hello")
	c := a.copy(src)
	src[0] = 'j'
	if string(c) != "hello" || cap(c) != len(c) {
		t.Fatalf("copy = %q cap %d, want an independent %q with capacity 5", c, cap(c), "hello")
	}
	d := a.copy([]byte("world"))
	_ = append(c, '!') // must reallocate, not overwrite d
	if string(d) != "world" {
		t.Fatalf("append to one copy changed the next: %q", d)
	}
	if a.copy(nil) != nil || a.copy([]byte{}) == nil {
		t.Fatal("copy must keep nil and empty apart")
	}
	big := bytes.Repeat([]byte{'x'}, arenaMax+1)
	if b := a.copy(big); !bytes.Equal(b, big) || len(a.buf) > arenaChunk {
		t.Fatal("a copy over arenaMax must be its own allocation")
	}
	// Outgrowing a chunk starts another; the copies from the first stay intact.
	var kept [][]byte
	for i := 0; i < 3*arenaChunk/1000; i++ {
		kept = append(kept, a.copy(bytes.Repeat([]byte{byte(i)}, 1000)))
	}
	for i, k := range kept {
		if !bytes.Equal(k, bytes.Repeat([]byte{byte(i)}, 1000)) {
			t.Fatalf("copy %d changed when the arena grew", i)
		}
	}
	if s := a.str([]byte("key")); s != "key" {
		t.Fatalf("str = %q", s)
	}
	a.reset()
	if len(a.buf) != 0 || cap(a.buf) == 0 {
		t.Fatal("reset must keep the last chunk for reuse")
	}
}

func TestOverlayMap(t *testing.T) {
	var mem arena
	m := newOverlayMap()
	k := []byte("a")
	m.set(&mem, k, []byte("1"))
	k[0] = 'z' // the map keeps its own copy of the key
	m.set(&mem, []byte("b"), nil)
	m.set(&mem, []byte("a"), []byte("2"))
	if v, ok := m.get([]byte("a")); !ok || string(v) != "2" {
		t.Fatalf("get(a) = %q, %v; want the later value", v, ok)
	}
	if v, ok := m.get([]byte("b")); !ok || v != nil {
		t.Fatalf("get(b) = %q, %v; want present and nil (a deletion)", v, ok)
	}
	if _, ok := m.get([]byte("z")); ok {
		t.Fatal("get(z) found a key never set")
	}
	m.dropIf(func(k string) bool { return k == "a" })
	if _, ok := m.get([]byte("a")); ok {
		t.Fatal("a dropped key is still there")
	}
	m.set(&mem, []byte("a"), []byte("3")) // set again after a drop
	var got []string
	m.each(func(k string, v []byte) { got = append(got, k+"="+string(v)) })
	if want := "[b= a=3]"; fmt.Sprint(got) != want {
		t.Fatalf("each = %v, want %s (first-set order, dropped ones left out)", got, want)
	}
	m.reset()
	mem.reset()
	if _, ok := m.get([]byte("b")); ok || len(m.ents) != 0 {
		t.Fatal("reset left entries behind")
	}
}
