package tests

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/servertest"
)

// TestSlowlogPipelineWait: a pipelined write is timed from when the write before it was
// answered, not from when it was read: the time it waited behind the others is not its own, so
// a long pipeline of quick writes does not fill the slow log.
func TestSlowlogPipelineWait(t *testing.T) {
	const threshold = 10 * time.Millisecond // far above one SET, even on a loaded machine
	srv := servertest.Start(t, "--slowlog-log-slower-than", strconv.Itoa(int(threshold.Microseconds())), "--slowlog-max-len", "100000")
	ctx := servertest.Ctx(t)
	rdb := srv.Client()
	value := strings.Repeat("v", 4096)
	const n = 3000
	p := rdb.Pipeline()
	for i := 0; i < n; i++ {
		p.Set(ctx, "k"+strconv.Itoa(i), value, 0)
	}
	start := time.Now()
	if _, err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if took < 4*threshold {
		t.Skipf("the pipeline took %v: too quick to tell waiting from running", took)
	}
	logged, err := rdb.SlowLogLen(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	// Each SET runs in microseconds; only the odd one caught by a sync or a pause may be slow.
	if logged > n/30 {
		t.Fatalf("%d of %d pipelined SETs (the pipeline took %v) are in the slow log: their wait was counted", logged, n, took)
	}
	t.Logf("pipeline of %d SETs took %v; %d in the slow log", n, took, logged)
}
