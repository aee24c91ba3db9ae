package sim

import (
	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/resp"
)

// read runs a read command on the shard's engine as the server's read path does
// (server.read and runRead): a point lookup straight on the engine through the record cache,
// anything else over a snapshot. It returns the reply.
func (s *Shard) read(args [][]byte, now int64) []byte {
	cmd := command.Lookup(args[0])
	w := &resp.Writer{Proto: 2}
	if cmd == nil || cmd.Run == nil || cmd.IsWrite() || !command.CheckArity(cmd.Arity, len(args)) {
		w.Error("ERR sim: not a read")
		return w.Buf
	}
	db := s.eng.DB()
	phys := s.state.Physical(0)
	tx := &s.readTx
	if cmd.Flags&command.FlagPoint != 0 {
		tx.Reset(db, nil, phys, now)
		tx.UseCache(s.cache, nil)
		tx.UseFilters(s.filters)
		s.run(cmd, args, w)
		return w.Buf
	}
	snap := db.NewSnapshot()
	tx.Reset(snap, nil, phys, now)
	tx.UseFilters(s.filters)
	s.run(cmd, args, w)
	snap.Close()
	tx.Reset(nil, nil, 0, 0)
	return w.Buf
}

func (s *Shard) run(cmd *command.Command, args [][]byte, w *resp.Writer) {
	ctx := &s.readCtx
	*ctx = command.Ctx{
		Cmd:     cmd,
		Args:    args,
		W:       w,
		Tx:      &s.readTx,
		State:   s.state,
		DB:      0,
		Now:     s.readTx.Now,
		Limits:  s.limits,
		Cursors: s.applier.Cursors,
	}
	cmd.Run(ctx)
	ctx.Args, ctx.Tx = nil, nil
}
