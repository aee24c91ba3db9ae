package server

import "github.com/cairn-db/cairn/internal/resp"

// dropReplies drops what a command wrote from mark on, under CLIENT REPLY OFF or SKIP, but
// keeps RESP3 push frames (subscription confirmations, messages, invalidations): as in Redis,
// CLIENT REPLY silences replies, not pushes, so a RESP3 subscriber that turned replies off still
// hears its subscriptions and messages.
func dropReplies(w *resp.Writer, mark int) {
	out := mark
	for at := mark; at < len(w.Buf); {
		n, ok := resp.ValueLen(w.Buf[at:])
		if !ok {
			break
		}
		if w.Buf[at] == '>' {
			out += copy(w.Buf[out:], w.Buf[at:at+n])
		}
		at += n
	}
	w.Truncate(out)
}
