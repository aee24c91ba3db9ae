// Package script owns cairn's Lua 5.1 runtime for EVAL and FUNCTION: the sandbox a script runs
// in (Redis's globals and libraries — redis, cjson, cmsgpack, bit, struct — and nothing that
// reaches the host), the conversion of replies between RESP and Lua in both directions, the
// error texts Redis gives, function libraries (the "#!lua name=" format and
// redis.register_function), and the registry of running scripts that SCRIPT KILL and the BUSY
// reply consult.
//
// The package runs no command itself: a script's redis.call goes to a Host, which the caller
// implements over the data a script may touch (in cairn, apply's batch), so the same script
// and data give the same result on every replica.
package script
