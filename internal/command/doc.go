// Package command owns the command table and the commands that work on data: parsing and
// validating arguments, running against a keyspace view, and producing Redis-exact replies and
// errors. One file per family (strings.go, keys.go, ...).
//
// A command's Run function is the same code whether it runs on an event loop against a read view
// (reads) or inside apply against a write batch (writes, and everything queued in MULTI): the
// context gives it the view, the operation's time, a deterministic random source and a reply
// writer. Commands that manage connections and the server itself (CLIENT, CONFIG, INFO, ...)
// have no Run; the server package executes them.
//
// The Applier is the state machine the replica log drives: it decodes operations, runs them over
// one engine batch per run of entries, and commits.
package command
