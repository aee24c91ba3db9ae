package acl

import (
	"errors"
	"strings"
	"testing"

	"github.com/cairn-db/cairn/internal/command"
)

func mustSet(t *testing.T, r *Registry, name string, rules ...string) *User {
	t.Helper()
	if _, err := r.SetUser(name, rules); err != nil {
		t.Fatalf("SETUSER %s %v: %v", name, rules, err)
	}
	return r.Get(name).User()
}

func argv(s string) [][]byte {
	var out [][]byte
	for _, f := range strings.Fields(s) {
		out = append(out, []byte(f))
	}
	return out
}

func cmdOf(t *testing.T, args [][]byte) *command.Command {
	t.Helper()
	c := command.Lookup(args[0])
	if c == nil {
		t.Fatalf("no command %q", args[0])
	}
	if len(c.Subcommands) > 0 {
		c = c.LookupSub(args[1])
	}
	return c
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		rules []string
		want  string
	}{
		{nil, "off sanitize-payload resetchannels -@all"},
		{[]string{"on", "nopass", "allkeys", "allchannels", "+@all"}, "on nopass sanitize-payload ~* &* +@all"},
		{[]string{"on", ">p1", "~foo*", "%R~ro*", "%W~wo*", "%RW~rw*", "&ch*", "+@read", "-get", "+config|get"},
			"on sanitize-payload #" + HashPassword([]byte("p1")) + " ~foo* %R~ro* %W~wo* ~rw* resetchannels &ch* -@all +@read -get +config|get"},
		{[]string{"+@all", "-client", "+client|id", "+client|setname"}, "off sanitize-payload resetchannels +@all -client +client|id +client|setname"},
		{[]string{"+get", "+set", "-get", "+get"}, "off sanitize-payload resetchannels -@all +set +get"},
		{[]string{"+client|id", "-client"}, "off sanitize-payload resetchannels -@all -client"},
		{[]string{"+select|0"}, "off sanitize-payload resetchannels -@all +select|0"},
		{[]string{"%R~a", "%W~a"}, "off sanitize-payload ~a resetchannels -@all"},
		{[]string{"~a", "allkeys"}, "off sanitize-payload ~* resetchannels -@all"},
		{[]string{"+get", "(~x +set)", "(&c -@all)"}, "off sanitize-payload resetchannels -@all +get (~x resetchannels -@all +set) (resetchannels &c -@all)"},
		{[]string{"on", "nopass", "+@all", "reset"}, "off sanitize-payload resetchannels -@all"},
		{[]string{">a", ">b", "<a"}, "off sanitize-payload #" + HashPassword([]byte("b")) + " resetchannels -@all"},
	}
	for _, tt := range tests {
		r := NewRegistry()
		u := mustSet(t, r, "u", tt.rules...)
		if got := u.Describe(); got != tt.want {
			t.Errorf("%v:\n got %q\nwant %q", tt.rules, got, tt.want)
		}
		// The description read back gives the same user.
		r2 := NewRegistry()
		u2 := mustSet(t, r2, "u", strings.Fields(u.Describe())...)
		if u2.Describe() != u.Describe() {
			t.Errorf("round trip of %q gave %q", u.Describe(), u2.Describe())
		}
		for i := range u.selectors {
			for w := range u.selectors[i].cmds {
				if u.selectors[i].cmds[w] != u2.selectors[i].cmds[w] {
					t.Fatalf("round trip of %q changed the command bitmap", u.Describe())
				}
			}
		}
	}
}

func TestRuleErrors(t *testing.T) {
	tests := []struct {
		rule string
		want error
	}{
		{"+nosuchcommand", errUnknown},
		{"-@nosuchcategory", errUnknown},
		{"bogus", errSyntax},
		{"#abc", errBadHash},
		{"!" + strings.Repeat("A", 64), errBadHash},
		{"<notset", errNoPass},
		{"+config|get|x", errFirstArgs},
		{"+select|", errSyntax},
		{"+config|get|", errFirstArgs},
		{"%X~a", errSyntax},
		{"%R", errSyntax},
	}
	for _, tt := range tests {
		r := NewRegistry()
		_, err := r.SetUser("u", []string{tt.rule})
		if !errors.Is(err, tt.want) {
			t.Errorf("%q: got %v, want %v", tt.rule, err, tt.want)
		}
	}
	r := NewRegistry()
	if _, err := r.SetUser("u", []string{"allkeys", "~a"}); !errors.Is(err, errKeysAll) {
		t.Errorf("pattern after allkeys: %v", err)
	}
	if _, err := r.SetUser("u", []string{"allchannels", "&a"}); !errors.Is(err, errChansAll) {
		t.Errorf("channel after allchannels: %v", err)
	}
	if _, err := r.SetUser("a b", nil); err == nil {
		t.Error("a user name with a space was accepted")
	}
	if _, err := r.SetUser("u", []string{"(+get", "~x"}); err == nil || !strings.Contains(err.Error(), "Unmatched parenthesis") {
		t.Errorf("unmatched parenthesis: %v", err)
	}
	// A failed SETUSER changes nothing.
	mustSet(t, r, "v", "on", "+get")
	if _, err := r.SetUser("v", []string{"+set", "+nosuch"}); err == nil {
		t.Fatal("bad rule accepted")
	}
	if got := r.Get("v").User().Describe(); got != "on sanitize-payload resetchannels -@all +get" {
		t.Errorf("after a failed SETUSER: %q", got)
	}
}

func TestCheck(t *testing.T) {
	r := NewRegistry()
	mustSet(t, r, "u", "on", "nopass", "+@all", "-@dangerous", "%R~r*", "%W~w*", "~rw*", "&news.*", "(+get ~sel*)")
	u := r.Get("u").User()
	tests := []struct {
		cmd    string
		reason Reason
		pos    int
	}{
		{"get r1", OK, 0},
		{"get w1", DeniedKey, 1},
		{"set w1 v", OK, 0},
		{"set r1 v", DeniedKey, 1},
		{"set rw1 v", OK, 0},
		{"get rw1", OK, 0},
		{"get sel1", OK, 0}, // allowed by the selector
		{"set sel1 v", DeniedKey, 1},
		{"copy r1 w1", OK, 0},
		{"copy r1 r2", DeniedKey, 2},
		{"copy w1 w2", DeniedKey, 1},
		{"mget r1 rw1 w2", DeniedKey, 3},
		{"flushall", DeniedCmd, 0},
		{"config get x", DeniedCmd, 0},
		{"publish news.a x", OK, 0},
		{"publish other x", DeniedChannel, 1},
		{"subscribe news.a news.b", OK, 0},
		{"subscribe news.a other", DeniedChannel, 2},
		{"psubscribe news.*", OK, 0},
		{"psubscribe news.a*", DeniedChannel, 1},
		{"auth x y", OK, 0}, // no-auth commands are never denied
		{"ping", OK, 0},
	}
	for _, tt := range tests {
		args := argv(tt.cmd)
		d := u.Check(cmdOf(t, args), args)
		if d.Reason != tt.reason || (tt.reason != OK && tt.reason != DeniedCmd && d.Pos != tt.pos) {
			t.Errorf("%s: got %v at %d, want %v at %d", tt.cmd, d.Reason, d.Pos, tt.reason, tt.pos)
		}
	}
	args := argv("flushall")
	if got := u.Check(cmdOf(t, args), args).Message("u", cmdOf(t, args), args, false); got != "User u has no permissions to run the 'flushall' command" {
		t.Errorf("message %q", got)
	}
	args = argv("config set a b")
	if got := u.Check(cmdOf(t, args), args).Message("u", cmdOf(t, args), args, false); got != "User u has no permissions to run the 'config|set' command" {
		t.Errorf("message %q", got)
	}
}

func TestFirstArg(t *testing.T) {
	r := NewRegistry()
	u := mustSet(t, r, "u", "on", "nopass", "allkeys", "-@all", "+select|0")
	for _, tt := range []struct {
		cmd string
		ok  bool
	}{{"select 0", true}, {"select 1", false}} {
		args := argv(tt.cmd)
		if got := u.Check(cmdOf(t, args), args).Reason == OK; got != tt.ok {
			t.Errorf("%s: allowed %v, want %v", tt.cmd, got, tt.ok)
		}
	}
}

func TestPasswords(t *testing.T) {
	r := NewRegistry()
	u := mustSet(t, r, "u", "on", ">a", "#"+HashPassword([]byte("b")))
	for _, tt := range []struct {
		pass string
		ok   bool
	}{{"a", true}, {"b", true}, {"c", false}, {"", false}} {
		if got := u.CheckPassword([]byte(tt.pass)); got != tt.ok {
			t.Errorf("password %q: %v", tt.pass, got)
		}
	}
	u = mustSet(t, r, "u", "off")
	if u.CheckPassword([]byte("a")) {
		t.Error("a disabled user authenticated")
	}
	r.SetDefaultPassword("secret")
	d := r.Default().User()
	if d.NoPass() || !d.CheckPassword([]byte("secret")) || d.CheckPassword([]byte("x")) {
		t.Error("requirepass not applied to the default user")
	}
	r.SetDefaultPassword("")
	if !r.Default().User().NoPass() {
		t.Error("empty requirepass did not make the default user nopass")
	}
}

func TestLogGroups(t *testing.T) {
	var l Log
	e := Entry{Reason: DeniedCmd, Context: CtxTopLevel, Object: "get", Username: "u"}
	l.Add(e, 1000, 10)
	l.Add(e, 2000, 10)
	e2 := e
	e2.Object = "set"
	l.Add(e2, 3000, 10)
	l.Add(e, 100000, 10) // too late to group with the first
	got := l.Entries(10)
	if len(got) != 3 || got[0].ID != 2 || got[1].Object != "set" || got[2].Count != 2 || got[2].Updated != 2000 {
		t.Fatalf("entries %+v", got)
	}
	l.Add(e2, 100001, 2)
	if n := len(l.Entries(10)); n != 2 {
		t.Errorf("max length not kept: %d", n)
	}
	l.Add(e2, 100002, 0)
	if n := len(l.Entries(10)); n != 0 {
		t.Errorf("max length 0 kept %d entries", n)
	}
}

func TestParseUsers(t *testing.T) {
	defs := [][]string{{"user", "alice", "on", ">p", "~*", "+@all"}, {"user", "default", "on", "nopass", "~*", "&*", "+@all"}}
	users, err := ParseUsers(defs, []string{"f:1", "f:2"}, false)
	if err != nil || len(users) != 2 {
		t.Fatalf("ParseUsers: %v %v", users, err)
	}
	_, err = ParseUsers([][]string{{"user", "a"}, {"user", "a"}}, []string{"f:1", "f:2"}, false)
	if err == nil || !strings.Contains(err.Error(), "Duplicate user 'a'") {
		t.Errorf("duplicate: %v", err)
	}
	_, err = ParseUsers([][]string{{"user", "a", "+nosuch"}}, []string{"f:1"}, false)
	if err == nil || !strings.Contains(err.Error(), "f:1: Error in applying operation '+nosuch'") {
		t.Errorf("unknown command: %v", err)
	}
}

// BenchmarkCheck measures the permission check of one request: a user allowed everything (one
// bit test), a user restricted by category only, and one with key patterns.
func BenchmarkCheck(b *testing.B) {
	r := NewRegistry()
	_, _ = r.SetUser("cats", []string{"on", "nopass", "allkeys", "allchannels", "+@all", "-@dangerous"})
	_, _ = r.SetUser("keys", []string{"on", "nopass", "%R~user:*", "~session:*", "allchannels", "+@all", "-@dangerous"})
	get := argv("get session:1234")
	cmd := command.Lookup(get[0])
	for _, name := range []string{"default", "cats", "keys"} {
		u := r.Get(name).User()
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if u.Check(cmd, get).Reason != OK {
					b.Fatal("denied")
				}
			}
		})
	}
}

// TestSimpleKeysAgree checks the key positions the fast path reads against the command table's
// key finder, for every command it handles and several argument counts.
func TestSimpleKeysAgree(t *testing.T) {
	s := newSelector(false, true)
	if err := s.apply("~ok*"); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, c := range command.ByID() {
		sk := simpleKeysOf(c)
		if !sk.ok {
			continue
		}
		for argc := 2; argc <= 9; argc++ {
			if !command.CheckArity(c.Arity, argc) {
				continue
			}
			args := make([][]byte, argc)
			args[0] = []byte(c.Name)
			for i := 1; i < argc; i++ {
				args[i] = []byte("ok")
			}
			refs, ok := c.GetKeys(args)
			if !ok {
				continue
			}
			checked++
			isKey := map[int]bool{}
			for _, r := range refs {
				isKey[r.Pos] = true
			}
			if d := s.checkSimpleKeys(sk, args); d.Reason != OK {
				t.Errorf("%s argc %d: denied with every key allowed", c.Name, argc)
			}
			for p := 1; p < argc; p++ {
				args[p] = []byte("no")
				d := s.checkSimpleKeys(sk, args)
				if isKey[p] != (d.Reason == DeniedKey && d.Pos == p) {
					t.Errorf("%s argc %d: position %d is a key %v, fast path says %+v", c.Name, argc, p, isKey[p], d)
				}
				args[p] = []byte("ok")
			}
		}
	}
	if checked < 100 {
		t.Fatalf("only %d cases checked", checked)
	}
}
