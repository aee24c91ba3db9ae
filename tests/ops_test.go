package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cairn-db/cairn/internal/servertest"
)

func TestHelpListsOptions(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"server", "--help"}, {"help"}} {
		out, err := exec.Command(servertest.Binary(t), args...).CombinedOutput()
		if err != nil {
			t.Fatalf("cairn %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		for _, want := range []string{"usage: cairn", "--port", "--tls-port", "--cluster-secret", "--metrics-addr", "--logfile", "--loglevel", "--maxmemory-policy"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("cairn %s does not mention %s", strings.Join(args, " "), want)
			}
		}
	}
}

func TestPortInUseAndLogfile(t *testing.T) {
	logfile := filepath.Join(t.TempDir(), "cairn.log")
	srv := servertest.Start(t, "--logfile", logfile, "--loglevel", "verbose")
	out, err := exec.Command(servertest.Binary(t), "server", "--port", strconv.Itoa(srv.Port), "--bind", "127.0.0.1", "--dir", t.TempDir()).CombinedOutput()
	if err == nil {
		t.Fatal("a second server on the same port started")
	}
	if !strings.Contains(string(out), "port "+strconv.Itoa(srv.Port)+" is already in use") {
		t.Fatalf("a port in use was reported as:\n%s", out)
	}
	b, err := os.ReadFile(logfile)
	if err != nil || !strings.Contains(string(b), "ready to accept connections") {
		t.Fatalf("--logfile holds %q (%v)", b, err)
	}
}
