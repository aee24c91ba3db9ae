package command

import "testing"

// The digest must be Redis's: the example in the DIGEST documentation.
func TestDigestMatchesRedis(t *testing.T) {
	if got := string(appendDigest(nil, digestOf([]byte("Hello world")))); got != "b6acb9d84a38ff74" {
		t.Fatalf("DIGEST of %q = %s, want b6acb9d84a38ff74", "Hello world", got)
	}
}
