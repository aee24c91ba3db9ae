package tests

import (
	"strings"
	"testing"

	"github.com/cairn-db/cairn/internal/servertest"
)

// While the disk counts as full (less free than min-free-disk), writes are refused at once with
// a MISCONF error and reads are served; INFO and one log line per change say so; writes resume
// by themselves when space returns.
func TestDiskFullRefusesWrites(t *testing.T) {
	srv := servertest.Start(t, "--appendfsync", "always")
	rc := srv.Client()
	ctx := servertest.Ctx(t)
	if err := rc.Set(ctx, "a", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rc.ConfigSet(ctx, "min-free-disk", "1000000gb").Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "disk_full:1", func() bool { return infoInt(t, rc, "persistence", "disk_full") == 1 })
	err := rc.Set(ctx, "b", "2", 0).Err()
	if err == nil || !strings.HasPrefix(err.Error(), "MISCONF Errors writing to disk: ") {
		t.Fatalf("SET on a full disk: %v, want MISCONF", err)
	}
	if v, err := rc.Get(ctx, "a").Result(); err != nil || v != "1" {
		t.Fatalf("GET on a full disk: %q, %v", v, err)
	}
	c := srv.Dial()
	c.Do("MULTI")
	if got := c.Do("INCR", "a"); !strings.HasPrefix(got, "-MISCONF") {
		t.Errorf("INCR queued on a full disk = %q", got)
	}
	if got := c.Do("EXEC"); !strings.HasPrefix(got, "-EXECABORT") {
		t.Errorf("EXEC = %q, want EXECABORT", got)
	}
	info, _ := rc.Info(ctx, "persistence").Result()
	if !strings.Contains(info, "aof_last_write_status:err") {
		t.Errorf("INFO persistence on a full disk:\n%s", info)
	}
	for range 3 {
		_ = rc.Set(ctx, "b", "2", 0).Err()
	}
	if err := rc.ConfigSet(ctx, "min-free-disk", "0").Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "disk_full:0", func() bool { return infoInt(t, rc, "persistence", "disk_full") == 0 })
	if err := rc.Set(ctx, "b", "2", 0).Err(); err != nil {
		t.Fatalf("SET once space returned: %v", err)
	}
	log := srv.Log()
	if n := strings.Count(log, "the disk is full"); n != 1 {
		t.Errorf("%d log lines for the disk filling, want 1:\n%s", n, log)
	}
	if n := strings.Count(log, "disk space is back"); n != 1 {
		t.Errorf("%d log lines for space returning, want 1:\n%s", n, log)
	}
}
