package acl

import "sync"

// Contexts of a denial, as ACL LOG names them.
const (
	CtxTopLevel = "toplevel"
	CtxMulti    = "multi"
	CtxLua      = "lua"
)

// groupWindow is how close in time (ms) two similar denials must be to count as one entry.
const groupWindow = 60000

// Entry is one ACL LOG entry.
type Entry struct {
	Count      int64
	Reason     Reason
	Context    string
	Object     string
	Username   string
	ClientInfo string
	ID         int64
	Created    int64 // Unix ms
	Updated    int64 // Unix ms
}

// Log is the ACL log: denials and failed authentications, newest first, similar ones counted
// together.
type Log struct {
	mu      sync.Mutex
	entries []*Entry
	nextID  int64
	// Stats counts every denial by reason, for INFO.
	stats [5]int64
}

// Add records a denial at now (Unix ms), keeping at most max entries.
func (l *Log) Add(e Entry, now int64, max int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stats[e.Reason]++
	if max <= 0 {
		l.entries = nil
		return
	}
	for i, old := range l.entries {
		if i >= 10 {
			break
		}
		d := now - old.Updated
		if d < 0 {
			d = -d
		}
		if old.Reason == e.Reason && old.Context == e.Context && old.Object == e.Object &&
			old.Username == e.Username && d <= groupWindow {
			old.Count++
			old.Updated = now
			old.ClientInfo = e.ClientInfo
			copy(l.entries[1:i+1], l.entries[:i])
			l.entries[0] = old
			return
		}
	}
	ne := e
	ne.Count, ne.ID, ne.Created, ne.Updated = 1, l.nextID, now, now
	l.nextID++
	l.entries = append([]*Entry{&ne}, l.entries...)
	if len(l.entries) > max {
		l.entries = l.entries[:max]
	}
}

// Entries returns copies of the newest n entries.
func (l *Log) Entries(n int) []Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n > len(l.entries) {
		n = len(l.entries)
	}
	out := make([]Entry, n)
	for i := 0; i < n; i++ {
		out[i] = *l.entries[i]
	}
	return out
}

// Reset empties the log.
func (l *Log) Reset() {
	l.mu.Lock()
	l.entries = nil
	l.mu.Unlock()
}

// Stats returns how many authentications failed and how many commands, keys and channels were
// denied since start.
func (l *Log) Stats() (auth, cmd, key, channel int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stats[DeniedAuth], l.stats[DeniedCmd], l.stats[DeniedKey], l.stats[DeniedChannel]
}
