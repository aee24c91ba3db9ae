package keyspace

// NumDBs is the number of databases (SELECT 0 to 15).
const NumDBs = 16

// KeyRef names a key in a physical database. In Effects.Modified, Client is the client whose
// operation modified it (0 for the server's own, such as expiry), for tracking's NOLOOP.
type KeyRef struct {
	DB     byte
	Key    []byte
	Client uint64
}

// Event is a keyspace event, for notify-keyspace-events.
type Event struct {
	DB    byte
	Class byte // Redis's flag letter: 'g' generic, '$' string, 'l' list, 's' set, 'h' hash, 'z' zset, 'x' expired, 'e' evicted, 'n' new, 't' stream, 'm' key miss
	Name  string
	Key   []byte
}

// CountDelta is the change a batch made to a database's key counts.
type CountDelta struct{ Keys, Expires int64 }

// Effects collects what a batch of writes did besides changing data: which keys were modified
// (for WATCH, client-side caching and blocked clients), which events fired, how key counts moved.
// Apply resets it per batch; keys are copied, so it outlives the commands' buffers, but not the
// batch: the copies' memory is reused by the next (nothing may keep a key past OnApplied).
type Effects struct {
	Modified []KeyRef
	Events   []Event
	Counts   [NumDBs]CountDelta
	// Flushed lists physical databases emptied wholesale (FLUSHDB/FLUSHALL), whose modified keys
	// are not listed one by one.
	Flushed []byte
	// Remapped is set when SWAPDB changed which physical database a SELECT number names.
	Remapped bool
	// Client is the client of the operation being applied; apply sets it per operation.
	Client uint64

	keys arena // the keys in Modified and Events
}

// Reset empties e, keeping its memory.
func (e *Effects) Reset() {
	e.Modified = e.Modified[:0]
	e.Events = e.Events[:0]
	e.Counts = [NumDBs]CountDelta{}
	e.Flushed = e.Flushed[:0]
	e.Remapped = false
	e.Client = 0
	e.keys.reset()
}

// copyKey copies a key: the command's buffers do not outlive it. The copy lives until Reset.
func (e *Effects) copyKey(k []byte) []byte { return e.keys.copy(k) }

func (e *Effects) modified(db byte, key []byte) {
	e.Modified = append(e.Modified, KeyRef{DB: db, Key: e.copyKey(key), Client: e.Client})
}

func (e *Effects) notify(db, class byte, name string, key []byte) {
	e.Events = append(e.Events, Event{DB: db, Class: class, Name: name, Key: e.copyKey(key)})
}
