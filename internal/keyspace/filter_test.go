package keyspace

import (
	"fmt"
	"testing"
)

func TestKeyFilter(t *testing.T) {
	const n = 100000
	f := NewKeyFilter(n)
	for i := 0; i < n; i++ {
		f.Add(MetaKey(nil, 0, fmt.Appendf(nil, "key:%d", i)))
	}
	for i := 0; i < n; i++ {
		if !f.MayContain(MetaKey(nil, 0, fmt.Appendf(nil, "key:%d", i))) {
			t.Fatalf("key:%d was added but the filter rules it out", i)
		}
	}
	fp := 0
	for i := n; i < 2*n; i++ {
		if f.MayContain(MetaKey(nil, 0, fmt.Appendf(nil, "key:%d", i))) {
			fp++
		}
	}
	if rate := float64(fp) / n; rate > 0.03 {
		t.Fatalf("false positive rate %.3f, want about 0.01", rate)
	}
}
