// Package check holds the checkers the fault tests run over recorded client histories: a
// sequential model of the key-value operations they issue (SET, GET, INCR, APPEND, MSET and a
// MULTI/EXEC transaction over keys that share a hash tag, and the cross-slot requests a cluster
// refuses), the porcupine linearizability check built on it, and the session-guarantee checks.
//
// The deterministic simulation (tests/sim) and the chaos run on real processes (tests/chaos)
// both record their histories in these terms.
package check
