package tests

import (
	"testing"

	"github.com/cairn-db/cairn/internal/servertest"
)

// TestPubSubReplyOffRESP3: CLIENT REPLY OFF silences replies, not pushes: a RESP3 subscriber
// still gets its subscription confirmations and messages (Redis's pub/sub suite relies on it),
// while PING's reply is dropped.
func TestPubSubReplyOffRESP3(t *testing.T) {
	srv := servertest.Start(t)
	sub := srv.Dial()
	sub.Do("HELLO", "3")
	sub.Send(encode("CLIENT", "REPLY", "OFF"))
	sub.Send(encode("SUBSCRIBE", "channel"))
	sub.Send(encode("PSUBSCRIBE", "ch*"))
	if got, want := readN(sub, 2), pushReply('>', "subscribe", "channel", 1)+pushReply('>', "psubscribe", "ch*", 2); got != want {
		t.Fatalf("confirmations = %q, want %q", got, want)
	}
	pub := srv.Dial()
	if got := pub.Do("PUBLISH", "channel", "hello"); got != ":2\r\n" {
		t.Fatalf("PUBLISH = %q", got)
	}
	sub.Send(encode("PING"))
	sub.Send(encode("CLIENT", "REPLY", "ON"))
	want := message('>', "channel", "hello") + pmessage('>', "ch*", "channel", "hello") + "+OK\r\n"
	if got := readN(sub, 3); got != want {
		t.Fatalf("after PUBLISH: %q, want %q (PING's reply dropped)", got, want)
	}
}
