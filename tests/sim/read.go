package sim

import (
	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/resp"
)

// read runs a read command on the shard as the server's read path does, through the
// production shard.Reader. It returns the reply.
func (s *Shard) read(args [][]byte, now int64) []byte {
	cmd := command.Lookup(args[0])
	w := &resp.Writer{Proto: 2}
	if cmd == nil || cmd.Run == nil || cmd.IsWrite() || !command.CheckArity(cmd.Arity, len(args)) {
		w.Error("ERR sim: not a read")
		return w.Buf
	}
	v := s.Acquire()
	defer v.Release()
	s.reader.Run(s.Shard, v, cmd, args, 0, w, now)
	return w.Buf
}
