package tests

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cairn-db/cairn/internal/servertest"
)

// aclUser makes a user on srv and returns a go-redis client logged in as it.
func aclUser(t *testing.T, srv *servertest.Server, name string, rules ...string) *redis.Client {
	t.Helper()
	ctx := context.Background()
	args := []any{"ACL", "SETUSER", name, "reset", "on", ">pw-" + name}
	for _, r := range rules {
		args = append(args, r)
	}
	if err := srv.Client().Do(ctx, args...).Err(); err != nil {
		t.Fatalf("ACL SETUSER %s %v: %v", name, rules, err)
	}
	return srv.Client(func(o *redis.Options) { o.Username, o.Password = name, "pw-"+name })
}

func errText(err error) string {
	if err == nil {
		return "OK"
	}
	return err.Error()
}

func noperm(user, cmd string) string {
	return "NOPERM User " + user + " has no permissions to run the '" + cmd + "' command"
}

const (
	nopermKey     = "NOPERM No permissions to access a key"
	nopermChannel = "NOPERM No permissions to access a channel"
)

// TestACLCommandFamilies gives a user one category at a time and checks a command of that
// family runs and a command of another family is refused with Redis's error.
func TestACLCommandFamilies(t *testing.T) {
	srv := servertest.Start(t)
	ctx := context.Background()
	families := []struct {
		cat     string
		allowed []any
		denied  []any
		name    string // the denied command's name in the error
	}{
		{"string", []any{"SET", "s", "v"}, []any{"HSET", "h", "f", "v"}, "hset"},
		{"hash", []any{"HSET", "h", "f", "v"}, []any{"LPUSH", "l", "a"}, "lpush"},
		{"list", []any{"LPUSH", "l", "a"}, []any{"SADD", "st", "a"}, "sadd"},
		{"set", []any{"SADD", "st", "a"}, []any{"ZADD", "z", "1", "a"}, "zadd"},
		{"sortedset", []any{"ZADD", "z", "1", "a"}, []any{"XADD", "x", "*", "f", "v"}, "xadd"},
		{"stream", []any{"XADD", "x", "*", "f", "v"}, []any{"PFADD", "p", "a"}, "pfadd"},
		{"hyperloglog", []any{"PFADD", "p", "a"}, []any{"SETBIT", "b", "1", "1"}, "setbit"},
		{"bitmap", []any{"SETBIT", "b", "1", "1"}, []any{"GEOADD", "g", "1", "1", "a"}, "geoadd"},
		{"geo", []any{"GEOADD", "g", "1", "1", "a"}, []any{"DEL", "s"}, "del"},
		{"keyspace", []any{"EXISTS", "s"}, []any{"GET", "s"}, "get"},
		{"pubsub", []any{"PUBLISH", "ch", "m"}, []any{"GET", "s"}, "get"},
		{"admin", []any{"CONFIG", "GET", "maxclients"}, []any{"GET", "s"}, "get"},
		{"connection", []any{"CLIENT", "ID"}, []any{"GET", "s"}, "get"},
		{"transaction", []any{"UNWATCH"}, []any{"GET", "s"}, "get"},
		{"read", []any{"GET", "s"}, []any{"SET", "s", "v"}, "set"},
		{"write", []any{"SET", "s", "v"}, []any{"GET", "s"}, "get"},
		{"fast", []any{"GET", "s"}, []any{"KEYS", "*"}, "keys"},
		{"slow", []any{"KEYS", "*"}, []any{"GET", "s"}, "get"},
		{"dangerous", []any{"FLUSHDB"}, []any{"GET", "s"}, "get"},
		{"blocking", []any{"BLPOP", "nolist", "0.01"}, []any{"LPUSH", "l", "a"}, "lpush"},
	}
	for _, f := range families {
		c := aclUser(t, srv, "u_"+f.cat, "+@"+f.cat, "~*", "&*")
		if err := c.Do(ctx, f.allowed...).Err(); err != nil && err != redis.Nil {
			t.Errorf("+@%s: %v = %v", f.cat, f.allowed, err)
		}
		if got, want := errText(c.Do(ctx, f.denied...).Err()), noperm("u_"+f.cat, f.name); got != want {
			t.Errorf("+@%s: %v = %q, want %q", f.cat, f.denied, got, want)
		}
	}
	// Subcommands and exclusions.
	c := aclUser(t, srv, "sub", "+@all", "-@dangerous", "+config|get", "~*", "&*")
	checks := []struct {
		args []any
		want string
	}{
		{[]any{"CONFIG", "GET", "maxclients"}, "OK"},
		{[]any{"CONFIG", "SET", "maxclients", "100"}, noperm("sub", "config|set")},
		{[]any{"FLUSHALL"}, noperm("sub", "flushall")},
		{[]any{"GET", "k"}, redis.Nil.Error()},
		{[]any{"ACL", "WHOAMI"}, "OK"},
	}
	for _, ch := range checks {
		if got := errText(c.Do(ctx, ch.args...).Err()); got != ch.want {
			t.Errorf("%v = %q, want %q", ch.args, got, ch.want)
		}
	}
}

// TestACLKeyPatterns checks read and write permissions of key patterns, from the key specs'
// access flags, and selectors.
func TestACLKeyPatterns(t *testing.T) {
	srv := servertest.Start(t)
	ctx := context.Background()
	c := aclUser(t, srv, "k", "+@all", "%R~r:*", "%W~w:*", "~rw:*", "(+get ~sel:*)")
	checks := []struct {
		args []any
		want string
	}{
		{[]any{"GET", "r:1"}, redis.Nil.Error()},
		{[]any{"SET", "r:1", "v"}, nopermKey},
		{[]any{"SET", "w:1", "v"}, "OK"},
		{[]any{"GET", "w:1"}, nopermKey},
		{[]any{"SET", "rw:1", "v"}, "OK"},
		{[]any{"GET", "rw:1"}, "OK"},
		{[]any{"GET", "other"}, nopermKey},
		{[]any{"GET", "sel:1"}, redis.Nil.Error()},
		{[]any{"SET", "sel:1", "v"}, nopermKey},
		{[]any{"COPY", "rw:1", "w:2"}, "OK"},
		{[]any{"COPY", "w:1", "rw:2"}, nopermKey},
		{[]any{"MGET", "r:1", "rw:1"}, "OK"},
		{[]any{"MGET", "r:1", "w:1"}, nopermKey},
		{[]any{"MSET", "w:1", "a", "rw:1", "b"}, "OK"},
		{[]any{"MSET", "w:1", "a", "r:1", "b"}, nopermKey},
		{[]any{"LMOVE", "rw:l", "w:l", "LEFT", "RIGHT"}, redis.Nil.Error()},
		{[]any{"ZUNIONSTORE", "w:z", "2", "r:a", "rw:b"}, "OK"},
		{[]any{"ZUNIONSTORE", "w:z", "2", "r:a", "other"}, nopermKey},
		{[]any{"DEL", "w:1"}, "OK"},
		{[]any{"DEL", "r:1"}, nopermKey},
		{[]any{"EXISTS", "r:1"}, "OK"}, // EXISTS reads no value: no access flag
	}
	for _, ch := range checks {
		if got := errText(c.Do(ctx, ch.args...).Err()); got != ch.want {
			t.Errorf("%v = %q, want %q", ch.args, got, ch.want)
		}
	}
	// DRYRUN names the key.
	got, err := srv.Client().Do(ctx, "ACL", "DRYRUN", "k", "SET", "r:1", "v").Text()
	if err != nil || got != "User k has no permissions to access the 'r:1' key" {
		t.Errorf("DRYRUN = %q, %v", got, err)
	}
	got, err = srv.Client().Do(ctx, "ACL", "DRYRUN", "k", "GET", "r:1").Text()
	if err != nil || got != "OK" {
		t.Errorf("DRYRUN allowed = %q, %v", got, err)
	}
}

// TestACLChannels checks PUBLISH, SUBSCRIBE and PSUBSCRIBE against channel patterns, and that a
// subscriber loses its connection when its channel is taken away.
func TestACLChannels(t *testing.T) {
	srv := servertest.Start(t)
	ctx := context.Background()
	c := aclUser(t, srv, "ps", "+@all", "~*", "resetchannels", "&news.*", "&exact")
	checks := []struct {
		args []any
		want string
	}{
		{[]any{"PUBLISH", "news.a", "m"}, "OK"},
		{[]any{"PUBLISH", "other", "m"}, nopermChannel},
		{[]any{"SPUBLISH", "exact", "m"}, "OK"},
		{[]any{"SPUBLISH", "other", "m"}, nopermChannel},
	}
	for _, ch := range checks {
		if got := errText(c.Do(ctx, ch.args...).Err()); got != ch.want {
			t.Errorf("%v = %q, want %q", ch.args, got, ch.want)
		}
	}
	raw := srv.Dial()
	if got := raw.Do("AUTH", "ps", "pw-ps"); got != "+OK\r\n" {
		t.Fatalf("AUTH = %q", got)
	}
	if got := raw.Do("SUBSCRIBE", "other"); got != "-"+nopermChannel+"\r\n" {
		t.Errorf("SUBSCRIBE other = %q", got)
	}
	if got := raw.Do("PSUBSCRIBE", "news.a*"); got != "-"+nopermChannel+"\r\n" {
		t.Errorf("PSUBSCRIBE news.a* = %q (a pattern must equal an allowed pattern)", got)
	}
	if got := raw.Do("PSUBSCRIBE", "news.*"); !strings.HasPrefix(got, "*3\r\n$10\r\npsubscribe\r\n") {
		t.Errorf("PSUBSCRIBE news.* = %q", got)
	}
	if got := raw.Do("SUBSCRIBE", "news.b"); !strings.HasPrefix(got, "*3\r\n$9\r\nsubscribe\r\n") {
		t.Errorf("SUBSCRIBE news.b = %q", got)
	}
	// Keeping the patterns keeps the subscriber; taking news.* away disconnects it.
	admin := srv.Client()
	if err := admin.Do(ctx, "ACL", "SETUSER", "ps", "&more").Err(); err != nil {
		t.Fatal(err)
	}
	if err := admin.Do(ctx, "ACL", "SETUSER", "ps", "resetchannels", "&exact").Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.ReadAll(5 * time.Second); err != nil && !strings.Contains(err.Error(), "EOF") && !strings.Contains(err.Error(), "reset") {
		t.Errorf("subscriber not disconnected: %v", err)
	}
	// Other connections of the user that subscribe to nothing stay.
	if err := c.Ping(ctx).Err(); err != nil {
		t.Errorf("the user's other connection was dropped: %v", err)
	}
}

// TestACLMulti checks that a denied command inside MULTI is refused when queued, fails the
// transaction, and that EXEC checks the queued commands again.
func TestACLMulti(t *testing.T) {
	srv := servertest.Start(t)
	raw := srv.Dial()
	ctx := context.Background()
	aclUser(t, srv, "m", "+@all", "-flushall", "~a*")
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"AUTH", "m", "pw-m"}, "+OK\r\n"},
		{[]string{"MULTI"}, "+OK\r\n"},
		{[]string{"SET", "a1", "x"}, "+QUEUED\r\n"},
		{[]string{"FLUSHALL"}, "-" + noperm("m", "flushall") + "\r\n"},
		{[]string{"SET", "b1", "x"}, "-" + nopermKey + "\r\n"},
		{[]string{"EXEC"}, "-EXECABORT Transaction discarded because of previous errors.\r\n"},
		{[]string{"GET", "a1"}, "$-1\r\n"},
		{[]string{"MULTI"}, "+OK\r\n"},
		{[]string{"SET", "a1", "x"}, "+QUEUED\r\n"},
		{[]string{"EXEC"}, "*1\r\n+OK\r\n"},
		{[]string{"MULTI"}, "+OK\r\n"},
		{[]string{"INCR", "a2"}, "+QUEUED\r\n"},
	}
	for _, st := range steps {
		if got := raw.Do(st.args...); got != st.want {
			t.Fatalf("%v = %q, want %q", st.args, got, st.want)
		}
	}
	// Taking INCR away before EXEC: EXEC refuses the transaction.
	if err := srv.Client().Do(ctx, "ACL", "SETUSER", "m", "-incr").Err(); err != nil {
		t.Fatal(err)
	}
	if got, want := raw.Do("EXEC"), "-"+noperm("m", "incr")+"\r\n"; got != want {
		t.Fatalf("EXEC = %q, want %q", got, want)
	}
	if got := raw.Do("GET", "a2"); got != "$-1\r\n" {
		t.Errorf("a refused transaction wrote: %q", got)
	}
	entry := srv.Client(servertest.RESP3).Do(ctx, "ACL", "LOG", "1").Val().([]any)[0].(map[any]any)
	if entry["context"] != "multi" || entry["object"] != "incr" || !strings.Contains(entry["client-info"].(string), "cmd=exec") {
		t.Errorf("ACL LOG entry for EXEC: %v", entry)
	}
}

// TestACLAuth covers AUTH and HELLO with users, the default user and requirepass.
func TestACLAuth(t *testing.T) {
	srv := servertest.Start(t, "--requirepass", "secret")
	ctx := context.Background()
	raw := srv.Dial()
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"GET", "x"}, "-NOAUTH Authentication required.\r\n"},
		{[]string{"AUTH", "wrong"}, "-WRONGPASS invalid username-password pair or user is disabled.\r\n"},
		{[]string{"AUTH", "secret"}, "+OK\r\n"},
		{[]string{"ACL", "WHOAMI"}, "$7\r\ndefault\r\n"},
		{[]string{"ACL", "SETUSER", "alice", "on", ">apw", "+@all", "~*"}, "+OK\r\n"},
		{[]string{"ACL", "SETUSER", "bob", "off", ">bpw", "+@all", "~*"}, "+OK\r\n"},
		{[]string{"AUTH", "alice", "bad"}, "-WRONGPASS invalid username-password pair or user is disabled.\r\n"},
		{[]string{"AUTH", "bob", "bpw"}, "-WRONGPASS invalid username-password pair or user is disabled.\r\n"},
		{[]string{"AUTH", "nobody", "x"}, "-WRONGPASS invalid username-password pair or user is disabled.\r\n"},
		{[]string{"ACL", "WHOAMI"}, "$7\r\ndefault\r\n"},
		{[]string{"AUTH", "alice", "apw"}, "+OK\r\n"},
		{[]string{"ACL", "WHOAMI"}, "$5\r\nalice\r\n"},
		{[]string{"RESET"}, "+RESET\r\n"},
		{[]string{"GET", "x"}, "-NOAUTH Authentication required.\r\n"},
	}
	for _, st := range steps {
		if got := raw.Do(st.args...); got != st.want {
			t.Fatalf("%v = %q, want %q", st.args, got, st.want)
		}
	}
	if got := raw.Do("HELLO", "3", "AUTH", "alice", "wrong", "SETNAME", "n1"); got != "-WRONGPASS invalid username-password pair or user is disabled.\r\n" {
		t.Errorf("HELLO with a wrong password = %q", got)
	}
	if got := raw.Do("HELLO", "3", "AUTH", "alice", "apw", "SETNAME", "n1"); !strings.HasPrefix(got, "%7\r\n") {
		t.Errorf("HELLO 3 AUTH = %q", got)
	}
	if got := raw.Do("ACL", "WHOAMI"); got != "$5\r\nalice\r\n" {
		t.Errorf("WHOAMI after HELLO = %q", got)
	}
	// go-redis logs in with HELLO 3 AUTH.
	c := srv.Client(servertest.RESP3, func(o *redis.Options) { o.Username, o.Password = "alice", "apw" })
	if who, err := c.Do(ctx, "ACL", "WHOAMI").Text(); err != nil || who != "alice" {
		t.Errorf("go-redis as alice: %q %v", who, err)
	}
	// requirepass is the default user's password; CONFIG SET changes it.
	admin := srv.Client(func(o *redis.Options) { o.Password = "secret" })
	if err := admin.ConfigSet(ctx, "requirepass", "other").Err(); err != nil {
		t.Fatal(err)
	}
	if got := srv.Dial().Do("AUTH", "other"); got != "+OK\r\n" {
		t.Errorf("AUTH with the new requirepass = %q", got)
	}
	if err := admin.ConfigSet(ctx, "requirepass", "").Err(); err != nil && !strings.Contains(err.Error(), "NOAUTH") {
		t.Fatal(err)
	}
	if got := srv.Dial().Do("ACL", "WHOAMI"); got != "$7\r\ndefault\r\n" {
		t.Errorf("no requirepass: a new connection is not logged in: %q", got)
	}
	// CLIENT KILL USER and deleting a user disconnect the user's connections.
	a1 := srv.Dial()
	a1.Do("AUTH", "alice", "apw")
	if n, err := srv.Client().Do(ctx, "CLIENT", "KILL", "USER", "alice").Int(); err != nil || n < 1 {
		t.Errorf("CLIENT KILL USER alice = %d, %v", n, err)
	}
	if got := srv.Client().Do(ctx, "CLIENT", "KILL", "USER", "nobody").Err(); errText(got) != "ERR No such user 'nobody'" {
		t.Errorf("CLIENT KILL USER nobody = %v", got)
	}
	a2 := srv.Dial()
	a2.Do("AUTH", "alice", "apw")
	if n, err := srv.Client().Do(ctx, "ACL", "DELUSER", "alice", "nobody").Int(); err != nil || n != 1 {
		t.Errorf("ACL DELUSER = %d, %v", n, err)
	}
	if _, err := a2.ReadAll(5 * time.Second); err != nil && strings.Contains(err.Error(), "timeout") {
		t.Errorf("a deleted user's connection stayed open: %v", err)
	}
}

// TestACLGetUserAndLog checks ACL GETUSER's reply shape in RESP2 and RESP3, LIST, USERS, CAT
// and the ACL LOG's entries.
func TestACLGetUserAndLog(t *testing.T) {
	srv := servertest.Start(t)
	ctx := context.Background()
	admin := srv.Client(servertest.RESP3)
	if err := admin.Do(ctx, "ACL", "SETUSER", "g", "on", ">p", "~k*", "%R~r*", "&c*", "-@all", "+get", "(+set ~s*)").Err(); err != nil {
		t.Fatal(err)
	}
	raw := srv.Dial()
	want2 := "*12\r\n$5\r\nflags\r\n*2\r\n$2\r\non\r\n$16\r\nsanitize-payload\r\n$9\r\npasswords\r\n*1\r\n$64\r\n" +
		"148de9c5a7a44d19e56cd9ae1a554bf67847afb0c58f6e12fa29ac7ddfca9940\r\n" +
		"$8\r\ncommands\r\n$10\r\n-@all +get\r\n$4\r\nkeys\r\n$9\r\n~k* %R~r*\r\n$8\r\nchannels\r\n$3\r\n&c*\r\n" +
		"$9\r\nselectors\r\n*1\r\n*6\r\n$8\r\ncommands\r\n$10\r\n-@all +set\r\n$4\r\nkeys\r\n$3\r\n~s*\r\n$8\r\nchannels\r\n$0\r\n\r\n"
	if got := raw.Do("ACL", "GETUSER", "g"); got != want2 {
		t.Errorf("GETUSER (RESP2) =\n%q\nwant\n%q", got, want2)
	}
	raw.Do("HELLO", "3")
	got3 := raw.Do("ACL", "GETUSER", "g")
	if !strings.HasPrefix(got3, "%6\r\n$5\r\nflags\r\n~2\r\n") || !strings.Contains(got3, "$9\r\nselectors\r\n*1\r\n%3\r\n") {
		t.Errorf("GETUSER (RESP3) = %q", got3)
	}
	if got := raw.Do("ACL", "GETUSER", "nobody"); got != "_\r\n" {
		t.Errorf("GETUSER nobody = %q", got)
	}
	list, err := admin.Do(ctx, "ACL", "LIST").StringSlice()
	if err != nil || len(list) != 2 || list[1] != "user g on sanitize-payload #148de9c5a7a44d19e56cd9ae1a554bf67847afb0c58f6e12fa29ac7ddfca9940 ~k* %R~r* resetchannels &c* -@all +get (~s* resetchannels -@all +set)" {
		t.Errorf("ACL LIST = %q, %v", list, err)
	}
	if users, _ := admin.Do(ctx, "ACL", "USERS").StringSlice(); strings.Join(users, ",") != "default,g" {
		t.Errorf("ACL USERS = %v", users)
	}
	if cmds, _ := admin.Do(ctx, "ACL", "CAT", "hyperloglog").StringSlice(); len(cmds) < 4 {
		t.Errorf("ACL CAT hyperloglog = %v", cmds)
	}
	if got := errText(admin.Do(ctx, "ACL", "CAT", "nosuch").Err()); got != "ERR Unknown category 'nosuch'" {
		t.Errorf("ACL CAT nosuch = %q", got)
	}
	if pw, _ := admin.Do(ctx, "ACL", "GENPASS").Text(); len(pw) != 64 {
		t.Errorf("GENPASS = %q", pw)
	}
	if pw, _ := admin.Do(ctx, "ACL", "GENPASS", "5").Text(); len(pw) != 2 {
		t.Errorf("GENPASS 5 = %q", pw)
	}
	// The log: a failed AUTH, then a denied command twice (counted together).
	if err := admin.Do(ctx, "ACL", "LOG", "RESET").Err(); err != nil {
		t.Fatal(err)
	}
	u := srv.Dial()
	u.Do("AUTH", "g", "nope")
	u.Do("AUTH", "g", "p")
	u.Do("DEL", "k1")
	u.Do("DEL", "k1")
	u.Do("GET", "x")
	entries := admin.Do(ctx, "ACL", "LOG").Val().([]any)
	if len(entries) != 3 {
		t.Fatalf("ACL LOG has %d entries: %v", len(entries), entries)
	}
	first := entries[0].(map[any]any)
	if first["reason"] != "key" || first["object"] != "x" || first["username"] != "g" || first["context"] != "toplevel" || first["count"] != int64(1) {
		t.Errorf("key entry %v", first)
	}
	second := entries[1].(map[any]any)
	if second["reason"] != "command" || second["object"] != "del" || second["count"] != int64(2) {
		t.Errorf("command entry %v", second)
	}
	third := entries[2].(map[any]any)
	if third["reason"] != "auth" || third["object"] != "AUTH" || third["username"] != "g" {
		t.Errorf("auth entry %v", third)
	}
	for _, f := range []string{"age-seconds", "client-info", "entry-id", "timestamp-created", "timestamp-last-updated"} {
		if _, ok := first[f]; !ok {
			t.Errorf("entry lacks %s: %v", f, first)
		}
	}
	if n := len(admin.Do(ctx, "ACL", "LOG", "1").Val().([]any)); n != 1 {
		t.Errorf("ACL LOG 1 gave %d entries", n)
	}
	if v := srv.Info("stats", "acl_access_denied_cmd"); v != "2" {
		t.Errorf("acl_access_denied_cmd = %q", v)
	}
	// Passwords given to ACL SETUSER never reach the slow log.
	if err := admin.ConfigSet(ctx, "slowlog-log-slower-than", "0").Err(); err != nil {
		t.Fatal(err)
	}
	if err := admin.Do(ctx, "ACL", "SETUSER", "h", ">topsecret").Err(); err != nil {
		t.Fatal(err)
	}
	if logged := fmt.Sprint(admin.Do(ctx, "SLOWLOG", "GET", "5").Val()); strings.Contains(logged, "topsecret") || !strings.Contains(logged, "setuser") && !strings.Contains(logged, "SETUSER") {
		t.Errorf("slow log: %s", logged)
	}
}

// TestACLFile saves users to the aclfile, restarts, and loads them back; ACL LOAD with a bad
// file changes nothing; users in the config file.
func TestACLFile(t *testing.T) {
	dir := t.TempDir()
	aclPath := filepath.Join(dir, "users.acl")
	if err := os.WriteFile(aclPath, []byte("user default on nopass ~* &* +@all\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := servertest.Start(t, "--aclfile", aclPath)
	ctx := context.Background()
	admin := srv.Client()
	if err := admin.Do(ctx, "ACL", "SETUSER", "f", "on", ">fp", "%W~w*", "+@write", "(~r* +get)").Err(); err != nil {
		t.Fatal(err)
	}
	if err := admin.Do(ctx, "ACL", "SAVE").Err(); err != nil {
		t.Fatal(err)
	}
	before, _ := admin.Do(ctx, "ACL", "LIST").StringSlice()
	srv.Restart()
	admin = srv.Client()
	after, _ := admin.Do(ctx, "ACL", "LIST").StringSlice()
	if strings.Join(before, "\n") != strings.Join(after, "\n") || len(after) != 2 {
		t.Fatalf("ACL LIST after restart:\n%v\nbefore:\n%v", after, before)
	}
	f := srv.Client(func(o *redis.Options) { o.Username, o.Password = "f", "fp" })
	if err := f.Set(ctx, "w1", "v", 0).Err(); err != nil {
		t.Errorf("SET as f after restart: %v", err)
	}
	// A bad file is refused whole.
	if err := os.WriteFile(aclPath, []byte("user default on nopass ~* &* +@all\nuser x on +nosuch\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := errText(admin.Do(ctx, "ACL", "LOAD").Err()); !strings.Contains(got, "Error in applying operation '+nosuch'") {
		t.Errorf("ACL LOAD of a bad file = %q", got)
	}
	if users, _ := admin.Do(ctx, "ACL", "USERS").StringSlice(); strings.Join(users, ",") != "default,f" {
		t.Errorf("users after a failed LOAD: %v", users)
	}
	// A good file replaces the users; f's connection is closed as f is gone.
	if err := os.WriteFile(aclPath, []byte("user default on nopass ~* &* +@all\nuser y on nopass +ping\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := admin.Do(ctx, "ACL", "LOAD").Err(); err != nil {
		t.Fatal(err)
	}
	if users, _ := admin.Do(ctx, "ACL", "USERS").StringSlice(); strings.Join(users, ",") != "default,y" {
		t.Errorf("users after LOAD: %v", users)
	}
	// Users in a config file.
	port := servertest.FreePort(t)
	conf := filepath.Join(dir, "cairn.conf")
	text := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nuser carol on >cpw ~c* +@read\n", port, filepath.Join(dir, "data2"))
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(servertest.Binary(t), "server", conf)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	carol := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port), Username: "carol", Password: "cpw"})
	defer carol.Close()
	deadline := time.Now().Add(20 * time.Second)
	// carol may not PING: a NOPERM answer says the server is up.
	for err := carol.Ping(ctx).Err(); err != nil && !strings.HasPrefix(err.Error(), "NOPERM") && time.Now().Before(deadline); err = carol.Ping(ctx).Err() {
		time.Sleep(50 * time.Millisecond)
	}
	if err := carol.Get(ctx, "c1").Err(); err != redis.Nil {
		t.Errorf("GET as carol: %v", err)
	}
	if got := errText(carol.Set(ctx, "c1", "v", 0).Err()); got != noperm("carol", "set") {
		t.Errorf("SET as carol = %q", got)
	}
}
