package sim

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"testing/cryptotest"
	"time"
)

var (
	seedsFlag    = flag.Int("seeds", 2, "how many random seeds TestSimulation runs (CI: 2; version-5 seeds cost about twice a version-4 one)")
	seedFlag     = flag.Uint64("seed", 0, "run only this seed (replays it exactly)")
	versionFlag  = flag.Int("version", 0, "simulation version of -seed (0: the latest; regression seeds name theirs)")
	firstFlag    = flag.Uint64("first-seed", 0, "run seeds first-seed, first-seed+1, ... instead of random ones")
	durationFlag = flag.Duration("duration", 0, "how long faults are injected per seed (0: 20s of simulated time)")
	traceFlag    = flag.String("sim-trace", "", "write the event trace of -seed to this file")
)

// regressions are seeds that once found a bug, replayed on every run. Each names what it found.
var regressions = []struct {
	seed    uint64
	version int
	// duration is the fault phase the seed was found with (0: the default 20 s).
	duration time.Duration
	bug      string
}{
	{44, Version1, 0, "a node crashed after installing a snapshot whose log record was not synced; it restarted " +
		"with its state machine ahead of its log and panicked at every start when it checkpointed " +
		"(replica: sync a snapshot's record; never snapshot past the log's last index)"},
	{14, Version2, 0, "a snapshot whose write-ahead log was damaged in transit passed verification (Pebble reads " +
		"a damaged last record as a torn tail) and was installed short of writes: replicas diverged " +
		"(engine: checkpoints carry a checksum list of their files, verified before install)"},
	{2016, Version2, 0, "a proposal made before a restart committed after it, and its result answered the proposal " +
		"of the new start that reused its ID: an APPEND was told another command's reply " +
		"(replica: proposal IDs carry the node's start number, counted in the log store)"},
	{1284, Version3, 0, "a shard leader's clock jumped back 79 s; automatic promotion waited an election timeout " +
		"read off that clock, so a new node stayed a learner for 65 s and its replacement of another " +
		"did not finish: no convergence (replica: autoPromote counts its wait in ticks; in production " +
		"time.Now's monotonic reading hid it)"},
	{5092, Version4, 0, "a replica applied a learner's admission, which asks its apply worker for a checkpoint " +
		"(Raft.force), when it had already checkpointed at its applied index: maybeCheckpoint declines and " +
		"leaves force set, hasWork counts it, so Host.Apply reports work it never does and a caller applying " +
		"until there is none spins (replica: hasWork counts a requested checkpoint only when one can be " +
		"taken, checkpointDue)"},
	{5, Version5, 0, "a slot's migration was cancelled after its first batch had left the source, so it must " +
		"complete; the source leader's mover asked its log (__slotcancel answered 0, started), took the slot up " +
		"to finish it, then skipped it because its migration was marked cancelled, handed nothing over and began " +
		"again: it spun proposing __slotcancel for ever and the slot never reached its target (server: a slot " +
		"taken up with its cancel known is moved; moveSlots' cancelled counts only a cancel that came later)"},
	{1003, Version5, 0, "a shard's keys of a slot left it for another shard; a replica that applied the entries " +
		"that counted them in and out in one batch (a replay after a crash) never wrote the key-count record, " +
		"its net change being nothing, while the others held it with zeros: replicas' engines differed byte " +
		"for byte (keyspace: the count record exists exactly when a count is not zero; first found by seed 2 " +
		"before the mover's completions were ordered)"},
}

// TestSimulation runs the deterministic simulation over many seeds: -seeds=N random ones (or
// -first-seed=S for S, S+1, ...), -seed=S to replay one, plus every regression seed.
func TestSimulation(t *testing.T) {
	type run struct {
		seed     uint64
		version  int
		duration time.Duration
	}
	var runs []run
	switch {
	case *seedFlag != 0:
		runs = []run{{*seedFlag, *versionFlag, *durationFlag}}
	default:
		for _, r := range regressions {
			runs = append(runs, run{r.seed, r.version, r.duration})
		}
		for i := range *seedsFlag {
			if *firstFlag != 0 {
				runs = append(runs, run{seed: *firstFlag + uint64(i), duration: *durationFlag})
			} else {
				runs = append(runs, run{seed: rand.Uint64()%1_000_000_000 + 1, duration: *durationFlag})
			}
		}
	}
	failed := 0
	for _, r := range runs {
		seed := r.seed
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			cfg := Config{Seed: seed, Version: r.version, Duration: r.duration}
			if *traceFlag != "" && *seedFlag != 0 {
				f, err := os.Create(*traceFlag)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				cfg.Trace = f
			}
			res := runSeed(t, cfg)
			report(t, res)
			if len(res.Violations) > 0 {
				failed++
				replay := fmt.Sprintf("-seed=%d -version=%d", seed, res.Config.Version)
				if r.duration != 0 {
					replay += fmt.Sprintf(" -duration=%v", r.duration)
				}
				t.Errorf("seed %d: %d violations (replay: go test ./tests/sim -run 'TestSimulation$' -v %s -sim-trace=/tmp/sim.trace)",
					seed, len(res.Violations), replay)
			}
		})
	}
	if len(runs) > 1 {
		t.Logf("%d seeds, %d failed", len(runs), failed)
	}
}

// runSeed runs one seed with Raft's randomness (crypto/rand, for election timeouts) drawn from
// the seed too.
func runSeed(t *testing.T, cfg Config) Result {
	t.Helper()
	cryptotest.SetGlobalRandom(t, cfg.Seed)
	start := time.Now()
	res := Run(cfg)
	t.Logf("seed %d: %s (%.1fs)", cfg.Seed, res.Config, time.Since(start).Seconds())
	return res
}

func report(t *testing.T, res Result) {
	t.Helper()
	t.Logf("  faults: %s", res.Faults)
	t.Logf("  ops:    %s", res.Ops)
	for _, c := range res.Checks {
		t.Logf("  check:  %s", c)
	}
	t.Logf("  trace:  %s", res.TraceHash)
	for i, v := range res.Violations {
		if i == 20 {
			t.Logf("  ... %d more", len(res.Violations)-i)
			break
		}
		t.Logf("  VIOLATION: %s", v)
	}
}

// TestSimulationReplays runs a seed twice and compares the traces: the same seed must give the
// same run, event for event, or a failing seed could not be replayed.
func TestSimulationReplays(t *testing.T) {
	seed := *seedFlag
	if seed == 0 {
		seed = 7
	}
	var hashes []string
	var traces []*strings.Builder
	for i := range 2 {
		t.Run(fmt.Sprint("run", i), func(t *testing.T) {
			var b strings.Builder
			res := runSeed(t, Config{Seed: seed, Duration: 8 * time.Second, Trace: &b})
			hashes = append(hashes, res.TraceHash)
			traces = append(traces, &b)
		})
	}
	if len(hashes) == 2 && hashes[0] != hashes[1] {
		a, b := strings.Split(traces[0].String(), "\n"), strings.Split(traces[1].String(), "\n")
		for i := 0; i < len(a) && i < len(b); i++ {
			if a[i] != b[i] {
				t.Fatalf("seed %d ran differently twice (trace %s against %s); first difference at line %d:\n  %s\n  %s", seed, hashes[0], hashes[1], i+1, a[i], b[i])
			}
		}
		t.Fatalf("seed %d ran differently twice: trace %s against %s", seed, hashes[0], hashes[1])
	}
}

// TestSimulationHealthy runs the workload without faults: every check must pass, and nothing
// may be refused or unknown.
func TestSimulationHealthy(t *testing.T) {
	res := runSeed(t, Config{Seed: 1, NoFaults: true, Duration: 5 * time.Second})
	report(t, res)
	if len(res.Violations) > 0 {
		t.Fatalf("%d violations without faults", len(res.Violations))
	}
	if res.Ops.Unknown > 0 || res.Ops.Acked == 0 {
		t.Fatalf("ops = %s, want every write acknowledged", res.Ops)
	}
	if res.Ops.CrossSlot == 0 || res.Ops.Moved == 0 {
		t.Fatalf("ops = %s, want cross-slot requests and redirections", res.Ops)
	}
}
