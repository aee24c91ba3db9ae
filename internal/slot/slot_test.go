package slot

import "testing"

// Values from redis-server 7.0's CLUSTER KEYSLOT.
func TestKeySlot(t *testing.T) {
	for _, tc := range []struct {
		key  string
		want int
	}{
		{"foo", 12182},
		{"bar", 5061},
		{"foo{bar}", 5061},
		{"{bar}foo", 5061},
		{"foo{}bar", 14292},
		{"foo{{bar}}", 4015},
		{"", 0},
		{"123456789", 12739},
	} {
		if got := KeySlot([]byte(tc.key)); got != tc.want {
			t.Fatalf("KeySlot(%q) = %d, want %d", tc.key, got, tc.want)
		}
	}
}

func TestPrefixSlot(t *testing.T) {
	for _, tc := range []struct {
		prefix string
		ok     bool
	}{
		{"user:{42}:", true},
		{"{42}", true},
		{"user:{42", false},
		{"user:", false},
		{"{}x{a}", false},
		{"", false},
	} {
		s, ok := PrefixSlot([]byte(tc.prefix))
		if ok != tc.ok {
			t.Fatalf("PrefixSlot(%q) ok = %v, want %v", tc.prefix, ok, tc.ok)
		}
		if ok {
			// Every key with the prefix hashes there.
			for _, suffix := range []string{"", "a", "}x{y}"} {
				if k := KeySlot([]byte(tc.prefix + suffix)); k != s {
					t.Fatalf("PrefixSlot(%q) = %d, but %q hashes to %d", tc.prefix, s, tc.prefix+suffix, k)
				}
			}
		}
	}
}
