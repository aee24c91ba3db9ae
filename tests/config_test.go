package tests

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cairn-db/cairn/internal/servertest"
)

func TestConfigGetSet(t *testing.T) {
	srv := servertest.Start(t)
	rdb := srv.Client()
	ctx := servertest.Ctx(t)
	all, err := rdb.ConfigGet(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 180 {
		t.Fatalf("CONFIG GET * lists %d parameters, want Redis's full set", len(all))
	}
	for _, k := range []string{"maxmemory", "save", "appendonly", "appendfsync", "hash-max-listpack-entries", "hash-max-ziplist-entries", "slave-read-only", "tls-port", "io-threads", "notify-keyspace-events"} {
		if _, ok := all[k]; !ok {
			t.Errorf("CONFIG GET * lacks %s", k)
		}
	}
	got, _ := rdb.ConfigGet(ctx, "maxmemory*").Result()
	if len(got) != 5 || got["maxmemory-policy"] != "noeviction" {
		t.Errorf("CONFIG GET maxmemory* = %v", got)
	}
	c := srv.Dial()
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"CONFIG", "GET", "hz", "port"}, "*4\r\n$2\r\nhz\r\n$2\r\n10\r\n$4\r\nport\r\n$" + strconv.Itoa(len(strconv.Itoa(srv.Port))) + "\r\n" + strconv.Itoa(srv.Port) + "\r\n"},
		{[]string{"CONFIG", "SET", "hash-max-ziplist-entries", "100"}, "+OK\r\n"},
		{[]string{"CONFIG", "GET", "hash-max-listpack-entries"}, "*2\r\n$25\r\nhash-max-listpack-entries\r\n$3\r\n100\r\n"},
		{[]string{"CONFIG", "SET", "maxmemory", "10mb", "notify-keyspace-events", "KEA"}, "+OK\r\n"},
		{[]string{"CONFIG", "GET", "maxmemory"}, "*2\r\n$9\r\nmaxmemory\r\n$8\r\n10485760\r\n"},
		{[]string{"CONFIG", "GET", "notify-keyspace-events"}, "*2\r\n$22\r\nnotify-keyspace-events\r\n$3\r\nAKE\r\n"},
		{[]string{"CONFIG", "SET", "foo", "1"}, "-ERR Unknown option or number of arguments for CONFIG SET - 'foo'\r\n"},
		{[]string{"CONFIG", "SET", "hz", "10", "hz", "11"}, "-ERR CONFIG SET failed (possibly related to argument 'hz') - duplicate parameter\r\n"},
		{[]string{"CONFIG", "SET", "daemonize", "yes"}, "-ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config\r\n"},
		{[]string{"CONFIG", "SET", "maxclients", "abc"}, "-ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument couldn't be parsed into an integer\r\n"},
		{[]string{"CONFIG", "SET", "maxclients", "0"}, "-ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument must be between 1 and 4294967295 inclusive\r\n"},
		{[]string{"CONFIG", "SET", "activedefrag", "maybe"}, "-ERR CONFIG SET failed (possibly related to argument 'activedefrag') - argument must be 'yes' or 'no'\r\n"},
		{[]string{"CONFIG", "SET", "maxmemory", "1xb"}, "-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value\r\n"},
		{[]string{"CONFIG", "SET", "save", "100 a"}, "-ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters\r\n"},
		{[]string{"CONFIG", "SET", "notify-keyspace-events", "q"}, "-ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'.\r\n"},
		{[]string{"CONFIG", "SET", "maxmemory-policy", "foo"}, "-ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction\r\n"},
		// All or nothing: the valid first pair is not applied when the second fails.
		{[]string{"CONFIG", "SET", "maxmemory", "5mb", "maxclients", "0"}, "-ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument must be between 1 and 4294967295 inclusive\r\n"},
		{[]string{"CONFIG", "GET", "maxmemory"}, "*2\r\n$9\r\nmaxmemory\r\n$8\r\n10485760\r\n"},
		{[]string{"CONFIG", "SET", "hz", "1000"}, "+OK\r\n"},
		{[]string{"CONFIG", "GET", "hz"}, "*2\r\n$2\r\nhz\r\n$3\r\n500\r\n"},
		{[]string{"CONFIG", "SET", "hz"}, "-ERR wrong number of arguments for 'config|set' command\r\n"},
		{[]string{"CONFIG", "SET", "hz", "5", "maxmemory"}, "-ERR wrong number of arguments for 'config|set' command\r\n"},
		{[]string{"CONFIG", "REWRITE"}, "-ERR The server is running without a config file\r\n"},
		{[]string{"CONFIG", "SET", "appendonly", "no"}, "-ERR CONFIG SET failed (possibly related to argument 'appendonly') - cairn always keeps its write log; use appendfsync to choose durability\r\n"},
		{[]string{"CONFIG", "SET", "appendfsync", "always"}, "+OK\r\n"},
		{[]string{"CONFIG", "SET", "requirepass", "pw"}, "+OK\r\n"},
	}
	for _, st := range steps {
		if got := c.Do(st.args...); got != st.want {
			t.Fatalf("%v = %q, want %q", st.args, got, st.want)
		}
	}
	if got := srv.Dial().Do("PING"); got != "-NOAUTH Authentication required.\r\n" {
		t.Fatalf("PING after CONFIG SET requirepass = %q", got)
	}
}

// TestConfigFile starts the server from a config file plus flags and rewrites the file.
func TestConfigFile(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "cairn.conf")
	body := "# my settings\nmaxclients 50\nsave 3600 1\nsave 300 100\nhash-max-ziplist-entries 99\nport 1\n"
	if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	port := servertest.FreePort(t)
	cmd := exec.Command(servertest.Binary(t), "server", conf, "--port", strconv.Itoa(port), "--dir", filepath.Join(dir, "data"), "--bind", "127.0.0.1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := "127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if conn, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			conn.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("server from a config file did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2})
	t.Cleanup(func() { rdb.Close() })
	ctx := servertest.Ctx(t)
	got, err := rdb.ConfigGet(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if got["maxclients"] != "50" || got["save"] != "3600 1 300 100" || got["hash-max-listpack-entries"] != "99" || got["port"] != strconv.Itoa(port) {
		t.Fatalf("from file and flags: maxclients=%s save=%q hash=%s port=%s", got["maxclients"], got["save"], got["hash-max-listpack-entries"], got["port"])
	}
	if err := rdb.ConfigSet(ctx, "maxmemory", "1gb").Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.ConfigRewrite(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(conf)
	text := string(data)
	for _, want := range []string{"# my settings\n", "maxclients 50\n", "maxmemory 1073741824\n", "hash-max-listpack-entries 99\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("rewritten file lacks %q:\n%s", want, text)
		}
	}
}
