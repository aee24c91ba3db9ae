// Command cairn is a distributed key-value store that speaks the Redis protocol.
//
//	cairn [server] [config-file] [--name value ...]
//
// Options have redis.conf names and work as flags or in a config file.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/cairn-db/cairn/internal/server"
)

func main() {
	args := os.Args[1:]
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") && !strings.Contains(args[0], ".") && !strings.Contains(args[0], "/") {
		sub := args[0]
		args = args[1:]
		switch sub {
		case "server":
		case "cluster":
			if err := runCluster(args, os.Stdout, os.Stderr); err != nil {
				fmt.Fprintln(os.Stderr, "cairn:", err)
				os.Exit(1)
			}
			return
		case "version":
			fmt.Println("cairn", server.CairnVersion, "(redis", server.Version+")")
			return
		case "help":
			usage(os.Stdout)
			listOptions(os.Stdout)
			return
		default:
			fmt.Fprintf(os.Stderr, "cairn: unknown subcommand %q\n", sub)
			usage(os.Stderr)
			os.Exit(2)
		}
	}
	if wantsHelp(args) {
		usage(os.Stdout)
		listOptions(os.Stdout)
		return
	}
	if err := runServer(args); err != nil {
		fmt.Fprintln(os.Stderr, "cairn:", err)
		os.Exit(1)
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: cairn [server] [config-file] [--name value ...]

Starts a cairn server. Options use redis.conf names, as flags or in a config file:
  --port 6379  --bind 127.0.0.1  --dir ./cairn-data  --appendfsync always|everysec|no
  --requirepass secret  --maxclients 10000  --protected-mode yes|no
  --loglevel debug|verbose|notice|warning|nothing  --logfile path (default: stderr)
  --metrics-addr 127.0.0.1:9121          Prometheus metrics at http://addr/metrics

TLS for clients (Go crypto/tls):
  --tls-port 6380 --tls-cert-file server.crt --tls-key-file server.key
  --tls-ca-cert-file ca.crt --tls-auth-clients yes|no|optional --tls-protocols "TLSv1.2 TLSv1.3"

Cluster mode (Raft-replicated; see the README):
  --cluster-enabled yes --cluster-initial host:port,host:port,...   form a new cluster
  --cluster-enabled yes --cluster-join host:port                    join an existing one
  --cluster-proxy yes  --cluster-node-timeout 500  --cluster-port 17001
  --cluster-secret s3cret     every bus connection proves this shared secret
  --tls-cluster yes           mutual TLS on the bus (tls-cert-file, tls-key-file, tls-ca-cert-file)

Cluster subcommands:
`+clusterUsage+`

Other subcommands: version, help. "cairn --help" or "cairn server --help" lists every option.
`)
}

// wantsHelp reports whether the arguments ask for help instead of a server.
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}

// listOptions prints every option with its default: first those cairn acts on, then those it
// accepts only so that redis.conf files keep working.
func listOptions(w io.Writer) {
	opts := server.Options()
	for _, used := range []bool{true, false} {
		if used {
			fmt.Fprintln(w, "\nOptions cairn acts on (name and default):")
		} else {
			fmt.Fprintln(w, "\nOptions accepted and reported by CONFIG GET but not acted on (Redis compatibility):")
		}
		for _, o := range opts {
			if o.Used == used {
				fmt.Fprintf(w, "  --%-36s %q\n", o.Name, o.Default)
			}
		}
	}
}

// parseOptions applies a config file (a first argument not starting with "--") and then
// "--name value..." flags, as redis-server does.
func parseOptions(args []string) (*server.Config, error) {
	cfg := server.NewConfig()
	if len(args) > 0 && !strings.HasPrefix(args[0], "--") {
		if err := cfg.LoadFile(args[0]); err != nil {
			return nil, err
		}
		args = args[1:]
	}
	for i := 0; i < len(args); {
		name := args[i]
		if !strings.HasPrefix(name, "--") || len(name) == 2 {
			return nil, fmt.Errorf("expected an option starting with --, got %q", name)
		}
		name = name[2:]
		if k, v, ok := strings.Cut(name, "="); ok {
			if err := cfg.Set(k, v, true); err != nil {
				return nil, fmt.Errorf("--%s: %w", k, err)
			}
			i++
			continue
		}
		// A value is every following argument up to the next --option (bind takes several).
		j := i + 1
		for j < len(args) && !strings.HasPrefix(args[j], "--") {
			j++
		}
		value := strings.Join(args[i+1:j], " ")
		if j == i+1 {
			value = "yes" // a bare flag, like --daemonize
		}
		if err := cfg.Set(name, value, true); err != nil {
			return nil, fmt.Errorf("--%s: %w", name, err)
		}
		i = j
	}
	return cfg, nil
}

func runServer(args []string) error {
	cfg, err := parseOptions(args)
	if err != nil {
		return err
	}
	logger, closeLog, err := newLogger(cfg)
	if err != nil {
		return err
	}
	defer closeLog()
	if addr := os.Getenv("CAIRN_PPROF"); addr != "" {
		// Profiling endpoint for operators and benchmarks: CAIRN_PPROF=127.0.0.1:6060.
		go func() { logger.Warn("pprof stopped", "err", http.ListenAndServe(addr, nil)) }()
	}
	srv, err := server.New(cfg, logger)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	serveErr := srv.Serve(ctx)
	if err := srv.Close(); err != nil && serveErr == nil {
		serveErr = err
	}
	logger.Info("server stopped")
	return serveErr
}

func newLogger(cfg *server.Config) (*slog.Logger, func(), error) {
	var w io.Writer = os.Stderr
	closeFn := func() {}
	if cfg.LogFile != "" {
		f, err := os.OpenFile(cfg.LogFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return nil, nil, err
		}
		w = f
		closeFn = func() { f.Close() }
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: &cfg.Level})), closeFn, nil
}
