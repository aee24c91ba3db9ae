package server

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/engine"
)

func init() {
	registerLocal("config", cmdConfig)
	registerLocal("shutdown", cmdShutdown)
	registerLocal("save", cmdSave)
	registerLocal("bgsave", cmdSave)
	registerLocal("lastsave", cmdLastSave)
}

func cmdConfig(s *Server, cl *Client, args [][]byte) {
	w := &cl.loop.w
	switch strings.ToLower(string(args[1])) {
	case "get":
		var pairs [][2]string
		seen := map[string]bool{}
		for _, pat := range args[2:] {
			for _, kv := range s.cfg.Match(string(pat)) {
				if !seen[kv[0]] {
					seen[kv[0]] = true
					pairs = append(pairs, kv)
				}
			}
		}
		w.Map(len(pairs))
		for _, kv := range pairs {
			w.BulkString(kv[0])
			w.BulkString(kv[1])
		}
	case "set":
		if len(args)%2 != 0 {
			w.Error(command.ErrWrongArgs("config|set"))
			return
		}
		pairs := make([][2]string, 0, (len(args)-2)/2)
		for i := 2; i < len(args); i += 2 {
			pairs = append(pairs, [2]string{string(args[i]), string(args[i+1])})
		}
		if e := s.cfg.SetMany(pairs); e != nil {
			if e.Unknown {
				w.Error("ERR Unknown option or number of arguments for CONFIG SET - '" + e.Arg + "'")
			} else {
				w.Error("ERR CONFIG SET failed (possibly related to argument '" + e.Arg + "') - " + e.Msg)
			}
			return
		}
		s.configChanged()
		w.OK()
	case "resetstat":
		s.resetStats()
		w.OK()
	case "rewrite":
		if err := s.cfg.Rewrite(); err != nil {
			w.Error("ERR " + err.Error())
			return
		}
		w.OK()
	case "help":
		lines := []string{
			"CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"GET <pattern>", "    Return parameters matching the glob-like <pattern> and their values.",
			"SET <directive> <value>", "    Set the configuration <directive> to <value>.",
			"RESETSTAT", "    Reset statistics reported by the INFO command.",
			"REWRITE", "    Rewrite the configuration file.",
			"HELP", "    Print this help.",
		}
		w.Array(len(lines))
		for _, l := range lines {
			w.Status(l)
		}
	default:
		w.Error("ERR unknown subcommand '" + string(args[1]) + "'. Try CONFIG HELP.")
	}
}

// configChanged pushes changed parameters to the parts of the server that cache them.
func (s *Server) configChanged() {
	s.limits.SetMaxBulkLen(s.cfg.ProtoMaxBulkLen())
	s.syncEncodingLimits()
	s.syncAccessPolicy()
	if p, err := engine.ParseSyncPolicy(s.cfg.AppendFsync); err == nil {
		s.policy.Store(int32(p))
		if s.cluster == nil {
			for _, h := range s.allHosted() {
				h.sh.SetSyncPolicy(p)
			}
		}
	}
}

// syncEncodingLimits copies the encoding thresholds OBJECT ENCODING reports by.
func (s *Server) syncEncodingLimits() {
	for _, name := range command.EncodingParams {
		if v, ok := s.cfg.Get(name); ok {
			s.limits.Encodings.Set(name, v)
		}
	}
}

func (s *Server) resetStats() {
	st := &s.stats
	for _, c := range []interface{ Store(int64) }{&st.connections, &st.rejected, &st.rateLimited, &st.commands, &st.netIn, &st.netOut,
		&st.keyspaceHits, &st.keyspaceMisses, &st.expiredKeys, &st.errorReplies, &st.protoErrors, &st.bigValues,
		&st.outputLimitDisconnects, &st.slowSubscribers} {
		c.Store(0)
	}
	s.cmdStats.reset()
	s.errStats.reset()
}

func cmdShutdown(s *Server, cl *Client, args [][]byte) {
	for _, a := range args[1:] {
		switch strings.ToLower(string(a)) {
		case "nosave", "save", "now", "force", "abort":
		default:
			cl.loop.w.Error(command.ErrSyntax)
			return
		}
		if strings.EqualFold(string(a), "abort") {
			cl.loop.w.Error("ERR No shutdown in progress.")
			return
		}
	}
	s.logger.Info("shutdown requested by a client", "client_id", cl.id)
	s.stopScripts()
	s.Shutdown()
	cl.closeAfterReply = true
}

// cmdSave writes a Pebble checkpoint of the data under dir/checkpoints: a consistent copy that
// restore can start from. SAVE and BGSAVE both take it at once; a checkpoint is hard links, cheap
// to make.
func cmdSave(s *Server, cl *Client, args [][]byte) {
	w := &cl.loop.w
	bg := strings.EqualFold(string(args[0]), "bgsave")
	if bg && len(args) > 2 || (bg && len(args) == 2 && !strings.EqualFold(string(args[1]), "schedule")) {
		w.Error(command.ErrSyntax)
		return
	}
	if err := s.checkpoint(); err != nil {
		w.Error("ERR " + err.Error())
		return
	}
	if bg {
		w.Status("Background saving started")
		return
	}
	w.OK()
}

// checkpoint replaces dir/checkpoint with a fresh copy of every shard's engine, one directory
// per shard.
func (s *Server) checkpoint() (err error) {
	start, applied := time.Now(), s.appliedTotal()
	defer func() { s.saves.done(start, applied, err) }()
	dest := filepath.Join(s.cfg.Dir, "checkpoint")
	tmp := dest + ".tmp-" + strconv.FormatInt(time.Now().UnixNano(), 10)
	for _, h := range s.allHosted() {
		if err := h.sh.Checkpoint(filepath.Join(tmp, strconv.FormatUint(h.id(), 10))); err != nil {
			_ = os.RemoveAll(tmp)
			return fmt.Errorf("checkpoint: %w", err)
		}
	}
	_ = os.RemoveAll(dest)
	if err := os.Rename(tmp, dest); err != nil {
		return err
	}
	s.lastSave.Store(time.Now().Unix())
	return nil
}

func cmdLastSave(s *Server, cl *Client, args [][]byte) {
	cl.loop.w.Int(s.lastSave.Load())
}
