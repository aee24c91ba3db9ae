package tests

import (
	"fmt"
	"testing"

	"github.com/cairn-db/cairn/internal/servertest"
)

// TestStreamApproxTrimMatchesRedis: "~" trimming removes whole nodes of 100 entries, as
// redis-server does, with and without LIMIT, after exact trims and across XADD's own trimming.
func TestStreamApproxTrimMatchesRedis(t *testing.T) {
	real := startRedis(t)
	srv := servertest.Start(t)
	c := srv.Client()
	ctx := servertest.Ctx(t)
	add := func(key string, from, n int) [][]any {
		var out [][]any
		for i := from; i < from+n; i++ {
			out = append(out, []any{"XADD", key, fmt.Sprintf("%d-1", i), "f", "v"})
		}
		return out
	}
	var script [][]any
	script = append(script, add("a", 1, 150)...)
	script = append(script, []any{"XTRIM", "a", "MAXLEN", "~", "0"}, []any{"XLEN", "a"})
	script = append(script, add("b", 1, 250)...)
	script = append(script,
		[]any{"XTRIM", "b", "MAXLEN", "~", "120"}, []any{"XLEN", "b"},
		[]any{"XTRIM", "b", "MAXLEN", "=", "140"}, []any{"XLEN", "b"},
		[]any{"XTRIM", "b", "MAXLEN", "~", "40"}, []any{"XLEN", "b"},
		[]any{"XTRIM", "b", "MAXLEN", "~", "0"}, []any{"XLEN", "b"})
	script = append(script, add("c", 1, 430)...)
	script = append(script,
		[]any{"XTRIM", "c", "MAXLEN", "~", "0", "LIMIT", "250"}, []any{"XLEN", "c"},
		[]any{"XTRIM", "c", "MINID", "~", "390"}, []any{"XLEN", "c"},
		[]any{"XTRIM", "c", "MINID", "~", "401"}, []any{"XLEN", "c"},
		[]any{"XADD", "c", "MAXLEN", "~", "5", "1000-1", "f", "v"}, []any{"XLEN", "c"})
	for _, args := range script {
		want, werr := real.Do(ctx, args...).Result()
		got, gerr := c.Do(ctx, args...).Result()
		if fmt.Sprint(got, gerr) != fmt.Sprint(want, werr) {
			t.Fatalf("%v: cairn %v %v, redis-server %v %v", args, got, gerr, want, werr)
		}
	}
}
