package server

import (
	"sort"
	"strings"

	"github.com/cairn-db/cairn/internal/command"
)

// CLIENT TRACKING (ON|OFF) [REDIRECT id] [BCAST] [PREFIX p ...] [OPTIN] [OPTOUT] [NOLOOP], with
// Redis's checks and errors, in Redis's order.
func (s *Server) clientTracking(cl *Client, args [][]byte) {
	w := &cl.loop.w
	m := &trackMode{}
	for j := 3; j < len(args); j++ {
		more := j+1 < len(args)
		switch {
		case command.EqualFold(args[j], "redirect") && more:
			j++
			if m.redirect != 0 {
				w.Error("ERR A client can only redirect to a single other client")
				return
			}
			id, ok := command.ParseInt(args[j])
			if !ok {
				w.Error(command.ErrNotInt)
				return
			}
			if s.clientByID(id) == nil {
				w.Error("ERR The client ID you want redirect to does not exist")
				return
			}
			m.redirect = id
		case command.EqualFold(args[j], "bcast"):
			m.bcast = true
		case command.EqualFold(args[j], "optin"):
			m.optin = true
		case command.EqualFold(args[j], "optout"):
			m.optout = true
		case command.EqualFold(args[j], "noloop"):
			m.noloop = true
		case command.EqualFold(args[j], "prefix") && more:
			j++
			m.prefixes = append(m.prefixes, string(args[j]))
		default:
			w.Error(command.ErrSyntax)
			return
		}
	}
	switch {
	case command.EqualFold(args[2], "on"):
		if msg := s.checkTrackingOn(cl, m); msg != "" {
			w.Error(msg)
			return
		}
		if m.bcast && len(m.prefixes) == 0 {
			m.prefixes = []string{""}
		}
		s.enableTracking(cl, m)
	case command.EqualFold(args[2], "off"):
		s.disableTracking(cl)
	default:
		w.Error(command.ErrSyntax)
		return
	}
	w.OK()
}

// checkTrackingOn validates CLIENT TRACKING ON's options against each other and the client's
// current mode, returning Redis's error or "".
func (s *Server) checkTrackingOn(cl *Client, m *trackMode) string {
	old := cl.ps.trk.mode.Load()
	switch {
	case !m.bcast && len(m.prefixes) > 0:
		return "ERR PREFIX option requires BCAST mode to be enabled"
	case old != nil && old.bcast != m.bcast:
		return "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode."
	case m.bcast && (m.optin || m.optout):
		return "ERR OPTIN and OPTOUT are not compatible with BCAST"
	case m.optin && m.optout:
		return "ERR You can't specify both OPTIN mode and OPTOUT mode"
	case old != nil && ((m.optin && old.optout) || (m.optout && old.optin)):
		return "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode."
	}
	if !m.bcast {
		return ""
	}
	for i, p := range m.prefixes {
		if old != nil {
			for _, q := range old.prefixes {
				if prefixesOverlap(p, q) {
					return "ERR Prefix '" + p + "' overlaps with an existing prefix '" + q + "'. Prefixes for a single client must not overlap."
				}
			}
		}
		for _, q := range m.prefixes[i+1:] {
			if prefixesOverlap(p, q) {
				return "ERR Prefix '" + p + "' overlaps with another provided prefix '" + q + "'. Prefixes for a single client must not overlap."
			}
		}
	}
	return ""
}

func prefixesOverlap(a, b string) bool { return strings.HasPrefix(a, b) || strings.HasPrefix(b, a) }

// clientCaching is CLIENT CACHING YES|NO.
func (s *Server) clientCaching(cl *Client, args [][]byte) {
	w := &cl.loop.w
	m := cl.ps.trk.mode.Load()
	if m == nil {
		w.Error("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled")
		return
	}
	switch {
	case command.EqualFold(args[2], "yes"):
		if !m.optin {
			w.Error("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.")
			return
		}
	case command.EqualFold(args[2], "no"):
		if !m.optout {
			w.Error("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.")
			return
		}
	default:
		w.Error(command.ErrSyntax)
		return
	}
	cl.ps.trk.caching, cl.ps.trk.armed = true, false
	w.OK()
}

// clientGetRedir is CLIENT GETREDIR: -1 when not tracking, 0 when not redirecting.
func (s *Server) clientGetRedir(cl *Client) {
	m := cl.ps.trk.mode.Load()
	if m == nil {
		cl.loop.w.Int(-1)
		return
	}
	cl.loop.w.Int(m.redirect)
}

// clientTrackingInfo is CLIENT TRACKINGINFO: a map of flags (a set), redirect and prefixes.
func (s *Server) clientTrackingInfo(cl *Client) {
	w := &cl.loop.w
	m := cl.ps.trk.mode.Load()
	flags := []string{"off"}
	redirect := int64(-1)
	var prefixes []string
	if m != nil {
		flags = []string{"on"}
		if m.bcast {
			flags = append(flags, "bcast")
		}
		if m.optin {
			flags = append(flags, "optin")
			if cl.ps.trk.caching {
				flags = append(flags, "caching-yes")
			}
		}
		if m.optout {
			flags = append(flags, "optout")
			if cl.ps.trk.caching {
				flags = append(flags, "caching-no")
			}
		}
		if m.noloop {
			flags = append(flags, "noloop")
		}
		if cl.ps.trk.brokenRedir.Load() {
			flags = append(flags, "broken_redirect")
		}
		redirect = m.redirect
		if m.bcast {
			prefixes = append(prefixes, m.prefixes...)
			sort.Strings(prefixes)
		}
	}
	w.Map(3)
	w.BulkString("flags")
	w.Set(len(flags))
	for _, f := range flags {
		w.BulkString(f)
	}
	w.BulkString("redirect")
	w.Int(redirect)
	w.BulkString("prefixes")
	w.Array(len(prefixes))
	for _, p := range prefixes {
		w.BulkString(p)
	}
}

// trackingRedirect is CLIENT LIST's redir field: -1 when not tracking.
func (cl *Client) trackingRedirect() int64 {
	if m := cl.ps.trk.mode.Load(); m != nil {
		return m.redirect
	}
	return -1
}

// trackingFlags are CLIENT LIST's tracking flags, in Redis's order: t tracking, R broken
// redirect, B broadcast.
func (cl *Client) trackingFlags() string {
	m := cl.ps.trk.mode.Load()
	if m == nil {
		return ""
	}
	f := "t"
	if cl.ps.trk.brokenRedir.Load() {
		f += "R"
	}
	if m.bcast {
		f += "B"
	}
	return f
}
