package tests

import (
	"strconv"
	"testing"

	"github.com/cairn-db/cairn/internal/servertest"
)

// TestInfoRedisFields: INFO has the fields redis-server 7 has that clients read, and
// rdb_changes_since_last_save counts writes since the last SAVE.
func TestInfoRedisFields(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	_, f := parseInfo(t, c.Do("INFO", "everything"))
	for _, k := range []string{"used_memory_lua", "used_memory_lua_human", "used_memory_scripts", "used_memory_scripts_human",
		"used_memory_vm_total", "number_of_cached_scripts", "number_of_functions", "number_of_libraries",
		"rdb_changes_since_last_save", "rdb_bgsave_in_progress", "rdb_last_save_time", "rdb_last_bgsave_status",
		"rdb_last_bgsave_time_sec", "rdb_saves", "aof_enabled", "aof_rewrite_in_progress", "aof_last_bgrewrite_status",
		"aof_rewrites", "module_fork_in_progress", "total_system_memory_human"} {
		if _, ok := f[k]; !ok {
			t.Errorf("INFO has no %s", k)
		}
	}
	changes := func() int {
		_, f := parseInfo(t, c.Do("INFO", "persistence"))
		n, err := strconv.Atoi(f["rdb_changes_since_last_save"])
		if err != nil {
			t.Fatalf("rdb_changes_since_last_save = %q", f["rdb_changes_since_last_save"])
		}
		return n
	}
	before := changes()
	for i := 0; i < 5; i++ {
		c.Do("SET", "k"+strconv.Itoa(i), "v")
	}
	if got := changes(); got != before+5 {
		t.Fatalf("rdb_changes_since_last_save after 5 SETs = %d, want %d", got, before+5)
	}
	if got := c.Do("SAVE"); got != "+OK\r\n" {
		t.Fatalf("SAVE = %q", got)
	}
	_, f = parseInfo(t, c.Do("INFO", "persistence"))
	if f["rdb_changes_since_last_save"] != "0" || f["rdb_saves"] != "1" || f["rdb_last_bgsave_status"] != "ok" || f["rdb_last_bgsave_time_sec"] == "-1" {
		t.Fatalf("after SAVE: changes %s, saves %s, status %s, time %s", f["rdb_changes_since_last_save"], f["rdb_saves"],
			f["rdb_last_bgsave_status"], f["rdb_last_bgsave_time_sec"])
	}
}

// TestModuleList: no module is loaded, and loading one is refused.
func TestModuleList(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	if got := c.Do("MODULE", "LIST"); got != "*0\r\n" {
		t.Fatalf("MODULE LIST = %q", got)
	}
	if got := c.Do("MODULE", "LOAD", "/x.so"); got != "-ERR Redis modules are not supported by cairn\r\n" {
		t.Fatalf("MODULE LOAD = %q", got)
	}
}
