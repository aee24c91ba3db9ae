// Package resp reads and writes the Redis serialization protocol, RESP2 and RESP3.
//
// The reader parses requests — multibulk arrays of bulk strings, and inline commands — out of a
// byte slice that the caller owns, returning arguments that point into that slice, so the hot path
// does not allocate. It enforces Redis's limits (bulk length, multibulk length, inline size)
// before anything is allocated, and reports how many more bytes an incomplete request needs so a
// caller receiving a large value does not re-parse it on every read.
//
// The writer appends replies to a byte slice. It knows the protocol version of the connection and
// degrades RESP3 types (maps, sets, doubles, booleans, nulls, pushes) to their RESP2 forms the
// way Redis does. It knows no command.
package resp
