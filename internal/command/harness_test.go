package command

import (
	"strings"
	"testing"

	"github.com/cairn-db/cairn/internal/engine"
	"github.com/cairn-db/cairn/internal/keyspace"
	"github.com/cairn-db/cairn/internal/replica"
)

// harness runs commands through the Applier over a real engine, as apply does, at a time the
// test controls.
type harness struct {
	t       *testing.T
	eng     *engine.Engine
	app     *Applier
	filters *keyspace.Filters
	limits  *Limits
	index   uint64
	now     int64 // Unix ms of the next operation
	proto   int
	events  []keyspace.Event // events of the last command
	state   *keyspace.State
	// version is the cluster version operations are stamped with (0: ClusterVersion).
	version uint32
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	eng, err := engine.Open(engine.Options{Dir: t.TempDir(), CacheSize: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	state, err := keyspace.LoadState(eng.DB())
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, eng: eng, limits: DefaultLimits(), now: 1_700_000_000_000, proto: 2, state: state}
	h.filters, err = keyspace.NewFilters(eng.DB(), 0)
	if err != nil {
		t.Fatal(err)
	}
	h.app, err = NewApplier(Storage{Engine: eng, State: state, Cache: keyspace.NewCache(1 << 20), Filters: h.filters}, h.limits)
	if err != nil {
		t.Fatal(err)
	}
	h.app.OnApplied = func(eff *keyspace.Effects, _ []Served) {
		h.events = append(h.events[:0], eff.Events...)
	}
	return h
}

// do runs one command and returns its raw reply.
func (h *harness) do(args ...string) string {
	h.t.Helper()
	bargs := make([][]byte, len(args))
	for i, a := range args {
		bargs[i] = []byte(a)
	}
	h.index++
	data := AppendOpHeader(nil, OpHeader{Proto: h.proto, Time: h.now, Version: h.version}, bargs)
	results := make([][]byte, 1)
	if err := h.app.Apply([]replica.Entry{{Index: h.index, Data: data}}, results); err != nil {
		h.t.Fatalf("apply %q: %v", args, err)
	}
	return string(results[0])
}

// check runs a command and fails unless its raw reply is want.
func (h *harness) check(want string, args ...string) {
	h.t.Helper()
	if got := h.do(args...); got != want {
		h.t.Fatalf("%s = %q, want %q", strings.Join(args, " "), got, want)
	}
}

// eventNames lists the last command's events as "class:name".
func (h *harness) eventNames() string {
	var b strings.Builder
	for _, e := range h.events {
		if e.Class == 'n' {
			continue // "new" is tested on its own (TestNewKeyEvent)
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte(e.Class)
		b.WriteByte(':')
		b.WriteString(e.Name)
	}
	return b.String()
}

// putCollection stores an empty-looking collection of type typ at key, so type checks can be
// tested before the collection commands exist.
func (h *harness) putCollection(key string, typ keyspace.Type) {
	h.t.Helper()
	b := h.eng.NewBatch()
	defer b.Close()
	tx := keyspace.NewTx(b, b, 0, h.now)
	tx.UseFilters(h.filters) // a key created behind apply's back must still enter the key filter
	e, err := tx.Lookup([]byte(key))
	if err != nil {
		h.t.Fatal(err)
	}
	e.Type, e.Version, e.Count = typ, 1<<60+h.index, 1
	if err := tx.Put([]byte(key), &e); err != nil {
		h.t.Fatal(err)
	}
	if err := h.eng.Commit(b); err != nil {
		h.t.Fatal(err)
	}
}
