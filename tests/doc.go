// Package tests holds the integration tests: each starts the real cairn binary on a free port and
// talks to it with go-redis or raw RESP.
package tests
