package shard

import (
	"github.com/cairn-db/cairn/internal/command"
	"github.com/cairn-db/cairn/internal/search"
)

// buildSteps bounds how many build steps one sweep proposes, so a large build shares the
// sweeper with expiry.
const buildSteps = 64

// buildIndexes proposes the next steps of the secondary indexes still being built over the keys
// that existed when they were created. Each step is a write operation of bounded size, so the
// build goes through the log like any write and other writes interleave with it.
func (s *Shard) buildIndexes(now func() int64, stop <-chan struct{}) error {
	for i := 0; i < buildSteps; i++ {
		v := s.Acquire()
		names, err := search.Building(v.Engine.DB())
		v.Release()
		if err != nil || len(names) == 0 {
			return err
		}
		cmds := make([][][]byte, len(names))
		for j, n := range names {
			cmds[j] = command.BuildArgs(n)
		}
		data := command.AppendOpHeader(nil, command.OpHeader{Proto: 2, Flags: command.OpSystem, Time: now(), Shard: s.opts.ID, Version: s.opVersion()}, cmds...)
		if err := s.proposeWait(data, stop); err != nil {
			return err
		}
	}
	return nil
}
