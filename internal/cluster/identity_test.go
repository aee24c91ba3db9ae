package cluster

import "testing"

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
