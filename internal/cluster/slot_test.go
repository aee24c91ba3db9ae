package cluster

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

func TestParseInitial(t *testing.T) {
	nodes, err := ParseInitial("127.0.0.1:7003, 127.0.0.1:7001,127.0.0.1:7002")
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"127.0.0.1:7001", "127.0.0.1:7002", "127.0.0.1:7003"} {
		if nodes[i].Addr != want || nodes[i].ID != uint64(i+1) {
			t.Fatalf("node %d = %+v, want ID %d at %s", i, nodes[i], i+1, want)
		}
	}
	for _, bad := range []string{"", "x", "127.0.0.1:0", "a:1,a:1"} {
		if _, err := ParseInitial(bad); err == nil {
			t.Fatalf("ParseInitial(%q) succeeded", bad)
		}
	}
	if id, ok := ParseName(Name(42)); !ok || id != 42 {
		t.Fatalf("ParseName(Name(42)) = %d, %v", id, ok)
	}
}
