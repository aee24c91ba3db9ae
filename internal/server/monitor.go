package server

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairn-db/cairn/internal/command"
)

// MONITOR streams every command the server runs to the monitoring clients, one status line per
// command in Redis's format:
//
//	+1339518083.107412 [0 127.0.0.1:60866] "keys" "*"
//
// Commands flagged admin or skip_monitor are not shown, and AUTH/HELLO credentials are redacted.

type monitors struct {
	n       atomic.Int32 // checked on every command without the lock
	mu      sync.Mutex
	clients []*Client
}

func init() {
	registerLocal("monitor", cmdMonitor)
}

func cmdMonitor(s *Server, cl *Client, args [][]byte) {
	if cl.monitor {
		cl.loop.w.OK()
		return
	}
	cl.monitor = true
	s.mon.mu.Lock()
	s.mon.clients = append(s.mon.clients, cl)
	s.mon.n.Store(int32(len(s.mon.clients)))
	s.mon.mu.Unlock()
	cl.loop.w.OK()
}

func (s *Server) removeMonitor(cl *Client) {
	if !cl.monitor {
		return
	}
	s.mon.mu.Lock()
	defer s.mon.mu.Unlock()
	for i, c := range s.mon.clients {
		if c == cl {
			s.mon.clients = append(s.mon.clients[:i], s.mon.clients[i+1:]...)
			break
		}
	}
	s.mon.n.Store(int32(len(s.mon.clients)))
}

// feedMonitors sends one command to the monitoring clients.
func (s *Server) feedMonitors(cl *Client, db int, cmd *command.Command, args [][]byte) {
	if s.mon.n.Load() == 0 || cmd == nil || cmd.Flags&(command.FlagAdmin|command.FlagSkipMonitor) != 0 {
		return
	}
	if p := cmd.Parent; p != nil && p.Flags&(command.FlagAdmin|command.FlagSkipMonitor) != 0 {
		return
	}
	line := monitorLine(time.Now(), db, cl.raddr, cmd, args)
	s.mon.mu.Lock()
	targets := append([]*Client(nil), s.mon.clients...)
	s.mon.mu.Unlock()
	for _, m := range targets {
		if m.killed.Load() {
			continue
		}
		// AsyncWrite queues the line on the monitor's own event loop, safe from any goroutine.
		_ = m.conn.AsyncWrite(line, nil)
	}
}

func monitorLine(now time.Time, db int, addr string, cmd *command.Command, args [][]byte) []byte {
	us := now.UnixMicro()
	b := make([]byte, 0, 64)
	b = append(b, '+')
	b = strconv.AppendInt(b, us/1e6, 10)
	b = append(b, '.')
	frac := strconv.FormatInt(us%1e6, 10)
	b = append(b, strings.Repeat("0", 6-len(frac))...)
	b = append(b, frac...)
	b = append(b, " ["...)
	b = strconv.AppendInt(b, int64(db), 10)
	b = append(b, ' ')
	b = append(b, addr...)
	b = append(b, ']')
	redact := redactFrom(cmd, args)
	for i, a := range args {
		b = append(b, ' ')
		if i >= redact {
			b = append(b, `"(redacted)"`...)
			continue
		}
		b = appendRepr(b, a)
	}
	return append(b, '\r', '\n')
}

// redactFrom returns the index from which arguments are hidden: AUTH's, HELLO's after AUTH,
// and ACL SETUSER's, DELUSER's and GETUSER's (they name users and passwords).
func redactFrom(cmd *command.Command, args [][]byte) int {
	switch cmd.Name {
	case "auth":
		return 1
	case "acl|setuser", "acl|deluser", "acl|getuser":
		return 2
	case "hello":
		for i := 2; i < len(args); i++ {
			if command.EqualFold(args[i], "auth") {
				return i + 1
			}
		}
	}
	return len(args)
}

// appendRepr quotes s as Redis's sdscatrepr: C escapes for quotes, backslashes and control
// characters, \xHH for other unprintable bytes.
func appendRepr(b, s []byte) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, c := range s {
		switch c {
		case '\\', '"':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\a':
			b = append(b, '\\', 'a')
		case '\b':
			b = append(b, '\\', 'b')
		default:
			if c >= 32 && c < 127 {
				b = append(b, c)
			} else {
				b = append(b, '\\', 'x', hex[c>>4], hex[c&15])
			}
		}
	}
	return append(b, '"')
}
