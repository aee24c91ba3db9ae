package command

// Commands of cluster mode that Redis does not have. The server runs them (they change the
// connection's session, not data): CONSISTENCY chooses how fresh reads must be, SESSION carries
// a session's position between connections; CLUSTER MIGRATE-SLOTS moves slots between shards, SPLIT-SHARD and MERGE-SHARDS
// change the number of shards.
func init() {
	Register(
		&Command{Name: "consistency", Arity: -1, Flags: FlagFast | FlagStale | FlagLoading | FlagNoScript,
			Categories: []string{"connection", "fast"}, Group: "connection", Since: "cairn-0.1",
			Args: []Arg{
				{Name: "level", Type: "oneof", Optional: true, Args: []Arg{
					{Name: "strong", Type: "pure-token", Token: "STRONG"},
					{Name: "session", Type: "pure-token", Token: "SESSION"},
					{Name: "eventual", Type: "pure-token", Token: "EVENTUAL"},
				}},
				{Name: "command", Type: "string", Optional: true},
				{Name: "arg", Type: "string", Optional: true, Multiple: true},
			}},
		&Command{Name: "session", Arity: -2, Flags: FlagFast | FlagStale | FlagLoading | FlagNoScript,
			Categories: []string{"connection", "fast"}, Group: "connection", Since: "cairn-0.1",
			Args: []Arg{
				{Name: "subcommand", Type: "oneof", Args: []Arg{
					{Name: "token", Type: "pure-token", Token: "TOKEN"},
					{Name: "resume", Type: "string", Token: "RESUME"},
				}},
			}},
		&Command{Name: "cluster|migrate-slots", Arity: 5, Flags: FlagNoAsyncLoading | FlagAdmin | FlagStale,
			Categories: []string{"admin", "slow", "dangerous"}, Group: "cluster", Since: "cairn-0.1",
			Args: []Arg{
				{Name: "start-slot", Type: "integer", KeySpecIndex: -1},
				{Name: "end-slot", Type: "integer", KeySpecIndex: -1},
				{Name: "shard-id", Type: "string", KeySpecIndex: -1},
			}},
		&Command{Name: "cluster|split-shard", Arity: -3, Flags: FlagNoAsyncLoading | FlagAdmin | FlagStale,
			Categories: []string{"admin", "slow", "dangerous"}, Group: "cluster", Since: "cairn-0.1",
			Args: []Arg{
				{Name: "shard-id", Type: "string", KeySpecIndex: -1},
				{Name: "slot", Type: "integer", KeySpecIndex: -1, Optional: true},
			}},
		&Command{Name: "cluster|merge-shards", Arity: 4, Flags: FlagNoAsyncLoading | FlagAdmin | FlagStale,
			Categories: []string{"admin", "slow", "dangerous"}, Group: "cluster", Since: "cairn-0.1",
			Args: []Arg{
				{Name: "from-shard-id", Type: "string", KeySpecIndex: -1},
				{Name: "into-shard-id", Type: "string", KeySpecIndex: -1},
			}},
		&Command{Name: "cluster|migrate-slots-cancel", Arity: 4, Flags: FlagNoAsyncLoading | FlagAdmin | FlagStale,
			Categories: []string{"admin", "slow", "dangerous"}, Group: "cluster", Since: "cairn-0.1",
			Args: []Arg{
				{Name: "start-slot", Type: "integer", KeySpecIndex: -1},
				{Name: "end-slot", Type: "integer", KeySpecIndex: -1},
			}},
	)
}

// ClearOpClient removes the proposing client from an encoded operation, so a blocking command
// in it does not block (used when a follower forwards the operation to the leader).
func ClearOpClient(op []byte) {
	if len(op) >= opHeaderLen {
		clear(op[12:20])
	}
}
