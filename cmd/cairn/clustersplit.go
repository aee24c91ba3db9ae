package main

import (
	"fmt"
	"io"
	"time"

	"github.com/cairn-db/cairn/internal/cluster"
)

// runSplit implements "cairn cluster split SHARD [SLOT]" and "cairn cluster merge FROM INTO":
// CLUSTER SPLIT-SHARD and MERGE-SHARDS on the asked node (any node relays to the meta group).
func runSplit(name string, args []string, stdout, stderr io.Writer) error {
	cf, fs, err := parseOpsFlags(name, args, stderr, nil)
	if err != nil {
		return err
	}
	pos := fs.Args()
	cmd := []any{"CLUSTER", "SPLIT-SHARD"}
	switch {
	case name == "split" && (len(pos) == 1 || len(pos) == 2):
	case name == "merge" && len(pos) == 2:
		cmd = []any{"CLUSTER", "MERGE-SHARDS"}
	default:
		return fmt.Errorf("usage:\n%s", clusterUsage)
	}
	for _, p := range pos {
		cmd = append(cmd, p)
	}
	ctx, cancel := withTimeout(cf.timeout, time.Minute)
	defer cancel()
	c := cf.client(cf.seed())
	defer c.Close()
	res, err := c.Do(ctx, cmd...).Text()
	if err != nil {
		return err
	}
	if name == "split" {
		id, _ := cluster.ParseName(res)
		fmt.Fprintf(stdout, "shard %s splits: new shard %d (%s) takes the upper slots; they move in the background (cairn cluster status shows them)\n", pos[0], id, res)
		return nil
	}
	fmt.Fprintf(stdout, "shard %s merges into shard %s: its slots move in the background, then it retires\n", pos[0], pos[1])
	return nil
}
