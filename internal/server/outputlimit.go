package server

import (
	"errors"
	"strconv"
	"strings"
)

// client-output-buffer-limit: per client class, a hard limit on the output a client may have
// pending, and a soft limit it may stay over for a number of seconds. Redis's syntax is groups
// of "class hard soft seconds"; CONFIG SET changes the classes it names and keeps the others.

// Client classes, in the order Redis prints them.
const (
	classNormal = iota
	classReplica
	classPubsub
	numClasses
)

// outputLimit is one class's limits, in bytes and seconds; 0 is no limit.
type outputLimit struct {
	hard, soft, seconds int64
}

type outputLimits [numClasses]outputLimit

func classByName(name string) (int, bool) {
	switch strings.ToLower(name) {
	case "normal":
		return classNormal, true
	case "slave", "replica":
		return classReplica, true
	case "pubsub":
		return classPubsub, true
	}
	return 0, false
}

// parseOutputLimits parses groups of "class hard soft seconds" over base.
func parseOutputLimits(base outputLimits, v string) (outputLimits, error) {
	f := strings.Fields(v)
	if len(f)%4 != 0 {
		return base, errors.New("Wrong number of arguments in buffer limit configuration.")
	}
	out := base
	for i := 0; i < len(f); i += 4 {
		class, ok := classByName(f[i])
		if !ok {
			return base, errors.New("Invalid client class specified in buffer limit configuration.")
		}
		hard, ok1 := parseMemory(f[i+1])
		soft, ok2 := parseMemory(f[i+2])
		secs, err := strconv.ParseInt(f[i+3], 10, 64)
		if !ok1 || !ok2 || err != nil || secs < 0 {
			return base, errors.New("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
		}
		out[class] = outputLimit{hard: hard, soft: soft, seconds: secs}
	}
	return out, nil
}

// applyOutputLimits publishes a validated value (normalizeOutputLimit in config.go writes all
// three classes).
func applyOutputLimits(c *Config, v string) {
	l, err := parseOutputLimits(outputLimits{}, v)
	if err != nil {
		return
	}
	c.live.outputLimits.Store(&l)
}

// outputLimitFor returns the limits of cl's class: pubsub while it has subscriptions, normal
// otherwise. Safe from any goroutine.
func (s *Server) outputLimitFor(cl *Client) outputLimit {
	lims := s.cfg.live.outputLimits.Load()
	if lims == nil {
		return outputLimit{}
	}
	if cl.ps.subscribed() {
		return lims[classPubsub]
	}
	return lims[classNormal]
}
