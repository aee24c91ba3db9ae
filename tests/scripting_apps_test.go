package tests

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairn-db/cairn/internal/servertest"
)

// Real applications that depend on scripting, against a single node (TestScriptingCluster runs
// the first two on a three-node cluster): a BullMQ queue (tests/testdata/bullmq: workers, a job retried after failures, a
// delayed job, a job that exhausts its attempts), redis-py's Lock (acquire, extend, reacquire,
// release, contention) and Celery with cairn as broker and result backend (a chain and a chord).
func TestScriptingApps(t *testing.T) {
	single := servertest.Start(t)
	runScriptApps(t, single.Addr, false)
	t.Run("celery", func(t *testing.T) {
		py := pythonWith(t, "celery")
		// Celery's Redis result backend stores each result with SET and PUBLISH in one MULTI.
		if got := single.Dial().Do("MULTI"); got == "+OK\r\n" {
			conn := single.Dial()
			conn.Do("MULTI")
			if got := conn.Do("PUBLISH", "c", "m"); got != "+QUEUED\r\n" {
				t.Skipf("Celery's result backend needs PUBLISH inside MULTI, which this build refuses: %q", got)
			}
		}
		dir, _ := filepath.Abs(filepath.Join("testdata", "pyapps"))
		// Celery's broker keeps its queues in database 0 of one node, as on redis-server.
		runApp(t, "single", dir, py, "celery_run.py", single.Addr)
	})
}

// runScriptApps runs the BullMQ and redis-py Lock programs against the server (or cluster)
// at addr. TestScriptingCluster runs them on its cluster.
func runScriptApps(t *testing.T, addr string, cluster bool) {
	target := "single"
	var extra []string
	if cluster {
		target, extra = "cluster", []string{"cluster"}
	}
	t.Run("bullmq", func(t *testing.T) {
		node := lookTool(t, "node")
		dir := npmInstall(t, "bullmq", "bullmq")
		runApp(t, target, dir, node, append([]string{"queue.mjs", addr}, extra...)...)
	})
	t.Run("redis-py-lock", func(t *testing.T) {
		py := pythonWith(t, "redis")
		dir, _ := filepath.Abs(filepath.Join("testdata", "pyapps"))
		runApp(t, target, dir, py, append([]string{"lock.py", addr}, extra...)...)
	})
}

// npmInstall installs the locked dependencies of tests/testdata/<dir> once, returning the
// directory; probe is a package that shows they are installed.
func npmInstall(t *testing.T, dir, probe string) string {
	t.Helper()
	npm := lookTool(t, "npm")
	abs, _ := filepath.Abs(filepath.Join("testdata", dir))
	if _, err := os.Stat(filepath.Join(abs, "node_modules", probe)); err != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = abs
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", abs, err, out)
		}
	}
	return abs
}

// pythonWith finds a python3 that imports module (Debian's python3-<module>), skipping the test
// where there is none.
func pythonWith(t *testing.T, module string) string {
	t.Helper()
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		path, err := exec.LookPath(p)
		if err != nil {
			continue
		}
		if exec.Command(path, "-c", "import "+module).Run() == nil {
			return path
		}
	}
	t.Skipf("no python3 with the %s module (apt-get install python3-%s)", module, module)
	return ""
}

// runApp runs a test program in dir and checks that it prints "all ok".
func runApp(t *testing.T, target, dir, prog string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "all ok") {
		t.Fatalf("%s %s against the %s server: %v\n%s", filepath.Base(prog), strings.Join(args, " "), target, err, out)
	}
	t.Logf("%s: %s", target, strings.TrimSpace(string(out)))
}
