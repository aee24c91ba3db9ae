package script

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Running is a script or function being run, as SCRIPT KILL, FUNCTION KILL, FUNCTION STATS and
// the BUSY reply see it.
type Running struct {
	// Shard is the shard whose data the script runs over.
	Shard uint64
	// Function is set for FCALL (FUNCTION KILL stops it), clear for EVAL (SCRIPT KILL).
	Function bool
	// Name is the function's name, or the script's SHA1.
	Name string
	// Args is the command that runs it, for FUNCTION STATS.
	Args  [][]byte
	start time.Time
	stop  context.CancelFunc
	wrote atomic.Bool
	// killed is set when the script was stopped by a kill, so its error says so.
	killed atomic.Bool
}

// NoteWrite records that the script changed data: from then on it cannot be killed, or its
// writes would be half done.
func (r *Running) NoteWrite() { r.wrote.Store(true) }

// Wrote reports whether the script changed data.
func (r *Running) Wrote() bool { return r.wrote.Load() }

// Elapsed is how long the script has run.
func (r *Running) Elapsed() time.Duration { return time.Since(r.start) }

// Registry holds the scripts running on a node.
type Registry struct {
	mu   sync.Mutex
	runs []*Running
}

// Scripts is the node's registry. Scripts run in apply, which knows nothing of the server that
// SCRIPT KILL reaches, so the two meet here.
var Scripts = &Registry{}

// Start registers r as running from now and returns the context its Lua state must run under:
// Kill cancels it.
func (g *Registry) Start(ctx context.Context, r *Running) context.Context {
	ctx, r.stop = context.WithCancel(ctx)
	r.start = time.Now()
	g.mu.Lock()
	g.runs = append(g.runs, r)
	g.mu.Unlock()
	return ctx
}

// Done unregisters r.
func (g *Registry) Done(r *Running) {
	r.stop()
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, x := range g.runs {
		if x == r {
			g.runs = append(g.runs[:i], g.runs[i+1:]...)
			return
		}
	}
}

// Busy reports whether a script has run on shard longer than threshold (0: never busy).
func (g *Registry) Busy(shard uint64, threshold time.Duration) bool {
	if threshold <= 0 {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, r := range g.runs {
		if r.Shard == shard && time.Since(r.start) >= threshold {
			return true
		}
	}
	return false
}

// Current returns the longest-running script, or nil.
func (g *Registry) Current() *Running {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.runs) == 0 {
		return nil
	}
	return g.runs[0]
}

// Kill stops the running scripts (function: those FCALL runs; else those EVAL runs) that
// have not written, and returns the reply for SCRIPT KILL / FUNCTION KILL.
func (g *Registry) Kill(function bool) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var found, unkillable, other bool
	for _, r := range g.runs {
		if r.Function != function {
			other = true
			continue
		}
		found = true
		if r.wrote.Load() {
			unkillable = true
			continue
		}
		r.killed.Store(true)
		r.stop()
	}
	switch {
	case !found && other && function:
		return "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
	case !found && other:
		return "-BUSY Redis is busy running a function. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
	case !found:
		return "-NOTBUSY No scripts in execution right now."
	case unkillable:
		return "-UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command."
	}
	return "+OK"
}
