package rdb

import (
	"context"
	"math/rand/v2"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// startRedis starts the redis-server installed on the machine, or skips the test.
func startRedis(t *testing.T) *redis.Client {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port), Protocol: 2})
	t.Cleanup(func() { rdb.Close() })
	deadline := time.Now().Add(10 * time.Second)
	for rdb.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatal("redis-server did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return rdb
}

// readBack reads the value at key with commands.
func readBack(t *testing.T, rdb *redis.Client, key string) *Value {
	t.Helper()
	ctx := context.Background()
	typ := rdb.Type(ctx, key).Val()
	v := &Value{}
	bs := func(ss []string) [][]byte {
		out := make([][]byte, len(ss))
		for i, s := range ss {
			out[i] = []byte(s)
		}
		return out
	}
	switch typ {
	case "string":
		v.Kind, v.Str = String, []byte(rdb.Get(ctx, key).Val())
	case "list":
		v.Kind, v.Elems = List, bs(rdb.LRange(ctx, key, 0, -1).Val())
	case "set":
		v.Kind, v.Elems = Set, bs(rdb.SMembers(ctx, key).Val())
	case "hash":
		v.Kind = Hash
		for f, x := range rdb.HGetAll(ctx, key).Val() {
			v.Elems = append(v.Elems, []byte(f), []byte(x))
		}
	case "zset":
		v.Kind = ZSet
		for _, z := range rdb.ZRangeWithScores(ctx, key, 0, -1).Val() {
			v.Members, v.Scores = append(v.Members, []byte(z.Member.(string))), append(v.Scores, z.Score)
		}
	default:
		t.Fatalf("TYPE %s = %q", key, typ)
	}
	return v
}

// TestAgainstRedis: what Encode writes, redis-server restores to the same value; what
// redis-server dumps, Decode reads as the value its commands show, for every encoding it
// picks over the same random values.
func TestAgainstRedis(t *testing.T) {
	rdb := startRedis(t)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(seed(t), 2))
	for i := 0; i < 60; i++ {
		v := randomValue(r)
		key := "k" + strconv.Itoa(i)
		if err := rdb.Restore(ctx, key, 0, string(Encode(v))).Err(); err != nil {
			t.Fatalf("value %d (kind %d): RESTORE on redis-server: %v", i, v.Kind, err)
		}
		if got := readBack(t, rdb, key); !sameValue(canonical(got), canonical(v)) {
			t.Fatalf("value %d (kind %d): redis-server restored another value", i, v.Kind)
		}
		// DUMP gives redis-server's own encoding for the value (it converts on load, or when
		// written command by command as here).
		key2 := key + ":cmd"
		writeWithCommands(t, rdb, key2, v)
		payload, err := rdb.Dump(ctx, key2).Result()
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode([]byte(payload))
		if err != nil {
			t.Fatalf("value %d (kind %d, %s): Decode of redis-server's dump: %v", i, v.Kind, rdb.ObjectEncoding(ctx, key2).Val(), err)
		}
		if !sameValue(canonical(got), canonical(v)) {
			t.Fatalf("value %d (kind %d, %s): decoded another value", i, v.Kind, rdb.ObjectEncoding(ctx, key2).Val())
		}
	}
}

func writeWithCommands(t *testing.T, rdb *redis.Client, key string, v *Value) {
	t.Helper()
	ctx := context.Background()
	p := rdb.Pipeline()
	switch v.Kind {
	case String:
		p.Set(ctx, key, v.Str, 0)
	case List:
		for _, e := range v.Elems {
			p.RPush(ctx, key, e)
		}
	case Set:
		for _, e := range v.Elems {
			p.SAdd(ctx, key, e)
		}
	case Hash:
		for i := 0; i < len(v.Elems); i += 2 {
			p.HSet(ctx, key, v.Elems[i], v.Elems[i+1])
		}
	case ZSet:
		for i, m := range v.Members {
			p.ZAdd(ctx, key, redis.Z{Member: m, Score: v.Scores[i]})
		}
	}
	if _, err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
}
