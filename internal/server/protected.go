package server

import (
	"net"
	"strings"
)

// deniedProtected is Redis's reply to a client protected mode refuses, word for word.
const deniedProtected = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. " +
	"In this mode connections are only accepted from the loopback interface. " +
	"If you want to connect from external computers to Redis you may adopt one of the following solutions: " +
	"1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, " +
	"however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. " +
	"2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. " +
	"3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. " +
	"4) Set up an authentication password for the default user. " +
	"NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n"

// ProtectedMode reports protected-mode: while the default user has no password, only
// loopback clients are served.
func (c *Config) ProtectedMode() bool { return c.protectedMode.Load() }

// refusedByProtectedMode reports whether a new client from raddr must get deniedProtected: as
// in Redis 7 and 8, protected mode is on, the default user has no password, and the client
// is not on the loopback interface (whatever bind says).
func (s *Server) refusedByProtectedMode(raddr string) bool {
	if !s.cfg.ProtectedMode() || !s.acl.Default().User().NoPass() {
		return false
	}
	return !isLoopback(raddr)
}

// isLoopback reports whether a client's address is on the loopback interface (Unix sockets
// count as local, as in Redis).
func isLoopback(addr string) bool {
	if addr == "" || strings.HasPrefix(addr, "@") || strings.HasPrefix(addr, "/") {
		return true
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
