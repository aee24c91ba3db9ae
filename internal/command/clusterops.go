package command

// Cluster subcommands for operators that Redis does not have; the server runs them
// (internal/server/clusterops.go). CLUSTER STATUS describes the cluster and this node's
// shards as JSON; CLUSTER REBALANCE has the meta group's leader run a placement round now.
func init() {
	Register(
		&Command{Name: "cluster|status", Arity: 2, Flags: FlagLoading | FlagStale,
			Categories: []string{"slow"}, Group: "cluster", Since: "cairn-0.1",
			Tips: []string{"nondeterministic_output"}},
		&Command{Name: "cluster|rebalance", Arity: 2, Flags: FlagAdmin | FlagStale | FlagNoAsyncLoading,
			Categories: []string{"admin", "slow", "dangerous"}, Group: "cluster", Since: "cairn-0.1"},
	)
}
