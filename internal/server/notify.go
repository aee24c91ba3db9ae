package server

import (
	"errors"
	"strconv"

	"github.com/cairn-db/cairn/internal/keyspace"
	"github.com/cairn-db/cairn/internal/shard"
)

// Keyspace notifications. Apply records each event with its command (keyspace.Effects.Events);
// after a batch commits, onApplied publishes the enabled ones on __keyspace@<db>__:<key> and
// __keyevent@<db>__:<event>, from the apply goroutine, through the same hub as PUBLISH. Key
// misses happen in reads, on the event loops: a read looks its keys up with a hook that
// publishes 'keymiss' when 'm' is on (and costs nothing when it is off).

// Notification classes, bits of notify-keyspace-events.
const (
	notifyKeyspace = 1 << iota // K
	notifyKeyevent             // E
	notifyGeneric              // g
	notifyString               // $
	notifyList                 // l
	notifySet                  // s
	notifyHash                 // h
	notifyZSet                 // z
	notifyExpired              // x
	notifyEvicted              // e
	notifyStream               // t
	notifyKeyMiss              // m
	notifyModule               // d
	notifyNew                  // n

	// notifyAll is A: every class but key misses and new keys.
	notifyAll = notifyGeneric | notifyString | notifyList | notifySet | notifyHash | notifyZSet |
		notifyExpired | notifyEvicted | notifyStream | notifyModule
)

// notifyClasses maps each class letter to its bit, in the order Redis prints them.
var notifyClasses = []struct {
	c    byte
	flag uint32
}{
	{'g', notifyGeneric}, {'$', notifyString}, {'l', notifyList}, {'s', notifySet},
	{'h', notifyHash}, {'z', notifyZSet}, {'x', notifyExpired}, {'e', notifyEvicted},
	{'t', notifyStream}, {'d', notifyModule}, {'n', notifyNew},
}

// classBits maps an event's class letter to its bit.
var classBits = func() (t [256]uint32) {
	for _, c := range notifyClasses {
		t[c.c] = c.flag
	}
	t['m'] = notifyKeyMiss
	return t
}()

// parseNotify parses a notify-keyspace-events value as Redis does.
func parseNotify(v string) (uint32, bool) {
	var flags uint32
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case 'A':
			flags |= notifyAll
		case 'K':
			flags |= notifyKeyspace
		case 'E':
			flags |= notifyKeyevent
		default:
			bit := classBits[c]
			if bit == 0 {
				return 0, false
			}
			flags |= bit
		}
	}
	return flags, true
}

// formatNotify prints flags in Redis's canonical order. Redis drops 'n' from the printed form
// when 'A' is set (while keeping it on); cairn prints it, so CONFIG REWRITE does not lose it.
func formatNotify(flags uint32) string {
	var b []byte
	if flags&notifyAll == notifyAll {
		b = append(b, 'A')
		if flags&notifyNew != 0 {
			b = append(b, 'n')
		}
	} else {
		for _, c := range notifyClasses {
			if flags&c.flag != 0 {
				b = append(b, c.c)
			}
		}
	}
	if flags&notifyKeyspace != 0 {
		b = append(b, 'K')
	}
	if flags&notifyKeyevent != 0 {
		b = append(b, 'E')
	}
	if flags&notifyKeyMiss != 0 {
		b = append(b, 'm')
	}
	return string(b)
}

// normalizeNotify is the CONFIG SET check of notify-keyspace-events.
func normalizeNotify(v string) (string, error) {
	flags, ok := parseNotify(v)
	if !ok {
		return "", errors.New("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
	}
	return formatNotify(flags), nil
}

func applyNotify(c *Config, v string) {
	flags, _ := parseNotify(v)
	c.live.notifyFlags.Store(flags)
}

// notifier is the state the apply goroutine uses to publish events.
type notifier struct {
	channel []byte
	frame   []byte
}

// notifyApplied publishes the enabled events of a committed batch. It runs on the apply
// goroutine.
func (s *Server) notifyApplied(sh *shard.Shard, events []keyspace.Event) {
	flags := s.cfg.live.notifyFlags.Load()
	if flags&(notifyKeyspace|notifyKeyevent) == 0 || len(events) == 0 || s.hub.subs.Load() == 0 {
		return
	}
	// Events name physical databases; subscribers know the SELECT numbers.
	logical := sh.Logical()
	n := &s.applyNotifier
	for _, ev := range events {
		if flags&classBits[ev.Class] == 0 {
			continue
		}
		s.notifyEvent(flags, logical[ev.DB], ev.Name, ev.Key, &n.channel, &n.frame, nil)
	}
}

// notifyEvent publishes one event on the keyspace and keyevent channels flags enable.
func (s *Server) notifyEvent(flags uint32, db int, event string, key []byte, channel, frame *[]byte, from *loop) {
	if flags&notifyKeyspace != 0 {
		*channel = appendEventChannel((*channel)[:0], "__keyspace@", db, key)
		s.publish(*channel, []byte(event), false, frame, from)
	}
	if flags&notifyKeyevent != 0 {
		*channel = appendEventChannel((*channel)[:0], "__keyevent@", db, []byte(event))
		s.publish(*channel, key, false, frame, from)
	}
}

func appendEventChannel(b []byte, prefix string, db int, name []byte) []byte {
	b = append(b, prefix...)
	b = strconv.AppendInt(b, int64(db), 10)
	b = append(b, "__:"...)
	return append(b, name...)
}

// missHook returns the hook a read gives its view to report key misses, or nil when 'm' events
// are off or nobody listens.
func (s *Server) missHook(cl *Client) func(key []byte) {
	flags := s.cfg.live.notifyFlags.Load()
	if flags&notifyKeyMiss == 0 || flags&(notifyKeyspace|notifyKeyevent) == 0 || s.hub.subs.Load() == 0 {
		return nil
	}
	lp := cl.loop
	db := cl.db
	return func(key []byte) {
		s.notifyEvent(flags, db, "keymiss", key, &lp.notifyChannel, &lp.notifyFrame, lp)
	}
}
