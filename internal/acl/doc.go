// Package acl owns access control as Redis 7 has it: users with hashed passwords, their
// selectors (allowed commands as a bitmap over command IDs, key patterns with read and write
// permissions, channel patterns), the parsing and description of ACL rules, the permission
// check of a parsed request, the ACL log and the ACL file format.
//
// A user's rules are immutable once published: ACL SETUSER builds a new User and swaps it into
// the user's Handle, so a check on an event loop is one atomic load and, for a user without key
// or channel restrictions, one bit test.
package acl
