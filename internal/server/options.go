package server

import (
	"errors"
	"net"
	"strings"
	"syscall"
)

// Option describes a configuration parameter for `cairn --help`.
type Option struct {
	Name, Default string
	// Used is whether cairn acts on it; the others are accepted for compatibility only.
	Used bool
}

// Options lists every parameter cairn accepts, in the order of its table.
func Options() []Option {
	out := make([]Option, 0, len(params))
	for _, p := range params {
		out = append(out, Option{Name: p.name, Default: p.def, Used: p.used || p.apply != nil})
	}
	return out
}

// checkPorts tries each client address before the event loops take them, so that a port
// already in use is reported as such (gnet's own error for it reads "setsockopt: bad file
// descriptor").
func checkPorts(addrs []string) error {
	for _, a := range addrs {
		hostport, ok := strings.CutPrefix(a, "tcp://")
		if !ok {
			continue
		}
		ln, err := net.Listen("tcp", hostport)
		if err != nil {
			if errors.Is(err, syscall.EADDRINUSE) {
				_, port, _ := net.SplitHostPort(hostport)
				return errors.New("port " + port + " is already in use on " + hostport + " (another process is listening on it; choose another with --port)")
			}
			return errors.New("cannot listen on " + hostport + ": " + err.Error())
		}
		ln.Close()
	}
	return nil
}
