package acl

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cairn-db/cairn/internal/command"
)

// Key pattern permissions.
const (
	permRead  = 1
	permWrite = 2
	permAll   = permRead | permWrite
)

// keyPattern is a key glob and what it allows: reading, writing or both.
type keyPattern struct {
	pat   string
	patb  []byte // pat, for matching without a conversion
	perms uint8
}

// Selector is one set of permissions: a user is allowed a request when its root selector or
// any of its other selectors allows it.
type Selector struct {
	root bool
	// cmds has a bit per command ID, and one more (futureBit) set by +@all: the selector was
	// given every command, those added later included.
	cmds      []uint64
	firstArgs map[int][]string
	allKeys   bool
	allChans  bool
	keys      []keyPattern
	channels  []string
	// rules are the command rules as given, in order, each rule's earlier occurrences removed
	// ("+get", "-@write"), lower case; +@all and -@all start them afresh.
	rules []string
}

// User is one user's rules. A published User is never changed.
type User struct {
	Name      string
	enabled   bool
	nopass    bool
	skipSanit bool
	passwords []string // hex SHA-256
	selectors []*Selector
	// fast: the root selector allows every command, key and channel.
	fast bool
}

// Handle is a user as connections hold it: its current rules, swapped whole on change.
type Handle struct {
	name    string
	cur     atomic.Pointer[User]
	deleted atomic.Bool
}

// Name is the user's name.
func (h *Handle) Name() string { return h.name }

// User returns the user's current rules.
func (h *Handle) User() *User { return h.cur.Load() }

// Deleted reports whether the user was deleted (ACL DELUSER or LOAD).
func (h *Handle) Deleted() bool { return h.deleted.Load() }

func numIDs() int { return len(command.ByID()) }

func futureBit() int { return numIDs() }

func newSelector(root, allChans bool) *Selector {
	return &Selector{root: root, cmds: make([]uint64, futureBit()/64+1), allChans: allChans}
}

func (s *Selector) clone() *Selector {
	c := *s
	c.cmds = append([]uint64(nil), s.cmds...)
	if s.firstArgs != nil {
		c.firstArgs = make(map[int][]string, len(s.firstArgs))
		for k, v := range s.firstArgs {
			c.firstArgs[k] = append([]string(nil), v...)
		}
	}
	c.keys = append([]keyPattern(nil), s.keys...)
	c.channels = append([]string(nil), s.channels...)
	c.rules = append([]string(nil), s.rules...)
	return &c
}

func (s *Selector) bit(id int) bool { return s.cmds[id/64]&(1<<(id%64)) != 0 }

func (s *Selector) setBit(id int, on bool) {
	if on {
		s.cmds[id/64] |= 1 << (id % 64)
	} else {
		s.cmds[id/64] &^= 1 << (id % 64)
	}
}

func (s *Selector) allCommands() bool {
	for i, w := range s.cmds {
		want := ^uint64(0)
		if i == len(s.cmds)-1 {
			want = 1<<(futureBit()%64+1) - 1
		}
		if w&want != want {
			return false
		}
	}
	return true
}

func newUser(name string, allChans bool) *User {
	return &User{Name: name, selectors: []*Selector{newSelector(true, allChans)}}
}

func (u *User) clone() *User {
	c := *u
	c.passwords = append([]string(nil), u.passwords...)
	c.selectors = make([]*Selector, len(u.selectors))
	for i, s := range u.selectors {
		c.selectors[i] = s.clone()
	}
	return &c
}

func (u *User) root() *Selector { return u.selectors[0] }

func (u *User) finish() *User {
	r := u.root()
	u.fast = r.allKeys && r.allChans && r.allCommands()
	return u
}

// Enabled reports whether the user may authenticate.
func (u *User) Enabled() bool { return u.enabled }

// NoPass reports whether any password authenticates the user.
func (u *User) NoPass() bool { return u.nopass }

// CheckPassword reports whether pass authenticates the enabled user.
func (u *User) CheckPassword(pass []byte) bool {
	if !u.enabled {
		return false
	}
	if u.nopass {
		return true
	}
	h := HashPassword(pass)
	ok := false
	for _, p := range u.passwords {
		// Compare every stored hash, so the time taken does not tell which matched.
		if constantEqual(p, h) {
			ok = true
		}
	}
	return ok
}

func constantEqual(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	var v byte
	for i := 0; i < len(a); i++ {
		v |= a[i] ^ b[i]
	}
	return v == 0
}

// HashPassword is the hex SHA-256 of a password, as ACL GETUSER shows it.
func HashPassword(p []byte) string {
	sum := sha256.Sum256(p)
	return hex.EncodeToString(sum[:])
}

// Registry holds the users. Changes are serialized by its mutex; checks read Handles only.
type Registry struct {
	mu    sync.Mutex
	users map[string]*Handle
	def   *Handle
	// PubsubAllChannels, when set and true, makes new users and reset start with allchannels
	// (acl-pubsub-default).
	PubsubAllChannels func() bool

	Log Log
}

// NewRegistry returns a registry holding only the default user: on, no password, every
// command, key and channel.
func NewRegistry() *Registry {
	r := &Registry{users: map[string]*Handle{}}
	r.def = r.install(defaultUser())
	return r
}

func defaultUser() *User {
	u := newUser("default", true)
	u.enabled, u.nopass = true, true
	r := u.root()
	r.allKeys = true
	_ = r.apply("+@all")
	return u.finish()
}

func (r *Registry) install(u *User) *Handle {
	h := &Handle{name: u.Name}
	h.cur.Store(u)
	r.users[u.Name] = h
	return h
}

func (r *Registry) allChans() bool { return r.PubsubAllChannels != nil && r.PubsubAllChannels() }

// Default is the default user.
func (r *Registry) Default() *Handle {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.def
}

// Get returns the named user, or nil.
func (r *Registry) Get(name string) *Handle {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.users[name]
}

// Names lists the users' names in byte order, as Redis lists them.
func (r *Registry) Names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.users))
	for n := range r.users {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Change is what a change of the users did, for the server to act on: users deleted, and users
// whose rules changed (old and new) so their pub/sub clients may need disconnecting.
type Change struct {
	Deleted []*Handle
	Changed []Changed
}

// Changed is a user whose rules were replaced.
type Changed struct {
	H        *Handle
	Old, New *User
}

// SetUser applies rules to the named user, creating it if needed. On error nothing changes.
func (r *Registry) SetUser(name string, rules []string) (Changed, error) {
	if hasSpace(name) {
		return Changed{}, errUsername
	}
	// acl-pubsub-default is read before taking the lock: reading it takes the config's lock,
	// which CONFIG SET holds while it calls SetDefaultPassword.
	allChans := r.allChans()
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.users[name]
	var u *User
	if h != nil {
		u = h.cur.Load().clone()
	} else {
		u = newUser(name, allChans)
	}
	if err := u.applyRules(rules, allChans); err != nil {
		return Changed{}, err
	}
	u.finish()
	if h == nil {
		h = r.install(u)
		return Changed{H: h, New: u}, nil
	}
	old := h.cur.Load()
	h.cur.Store(u)
	return Changed{H: h, Old: old, New: u}, nil
}

// DelUsers deletes the named users; the default user cannot be deleted.
func (r *Registry) DelUsers(names []string) ([]*Handle, error) {
	for _, n := range names {
		if n == "default" {
			return nil, errDelDefault
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*Handle
	for _, n := range names {
		if h := r.users[n]; h != nil {
			delete(r.users, n)
			h.deleted.Store(true)
			out = append(out, h)
		}
	}
	return out, nil
}

// SetDefaultPassword applies requirepass to the default user: "" makes it nopass.
func (r *Registry) SetDefaultPassword(pass string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	u := r.def.cur.Load().clone()
	u.passwords, u.nopass = nil, false
	if pass == "" {
		u.nopass = true
	} else {
		u.passwords = []string{HashPassword([]byte(pass))}
	}
	r.def.cur.Store(u.finish())
}

// Replace swaps the whole set of users for users (ACL LOAD, startup). The default user keeps
// its Handle; a user absent from users is deleted. users without a default user get a fresh one.
func (r *Registry) Replace(users []*User) Change {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.replaceLocked(users)
}

func (r *Registry) replaceLocked(users []*User) Change {
	var ch Change
	next := map[string]*Handle{}
	for _, u := range users {
		if h := r.users[u.Name]; h != nil {
			ch.Changed = append(ch.Changed, Changed{H: h, Old: h.cur.Load(), New: u})
			h.cur.Store(u)
			next[u.Name] = h
			continue
		}
		h := &Handle{name: u.Name}
		h.cur.Store(u)
		next[u.Name] = h
	}
	if next["default"] == nil {
		u := defaultUser()
		ch.Changed = append(ch.Changed, Changed{H: r.def, Old: r.def.cur.Load(), New: u})
		r.def.cur.Store(u)
		next["default"] = r.def
	}
	for n, h := range r.users {
		if next[n] == nil {
			h.deleted.Store(true)
			ch.Deleted = append(ch.Deleted, h)
		}
	}
	r.users = next
	return ch
}

func hasSpace(s string) bool { return strings.ContainsAny(s, " \x00") }
