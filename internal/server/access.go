package server

import (
	"strconv"
	"strings"
)

// syncAccessPolicy copies maxmemory-policy, lfu-log-factor and lfu-decay-time to what OBJECT
// FREQ and IDLETIME (and the access tables behind them) go by.
func (s *Server) syncAccessPolicy() {
	p := s.limits.Access
	if p == nil {
		return
	}
	if v, ok := s.cfg.Get("maxmemory-policy"); ok {
		p.LFU.Store(strings.HasSuffix(v, "-lfu"))
	}
	if v, ok := s.cfg.Get("lfu-log-factor"); ok {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			p.LogFactor.Store(n)
		}
	}
	if v, ok := s.cfg.Get("lfu-decay-time"); ok {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			p.DecayTime.Store(n)
		}
	}
}
