package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A checkpoint is verified before it is installed: an intact one passes, and one with a flipped
// byte in a table, a table cut short, or its manifest gone fails.
func TestVerifyCheckpoint(t *testing.T) {
	damage := []struct {
		name string
		do   func(t *testing.T, dir string)
	}{
		{"intact", func(*testing.T, string) {}},
		{"flipped byte in a table", func(t *testing.T, dir string) {
			p := fileWith(t, dir, ".sst")
			b, _ := os.ReadFile(p)
			b[len(b)/3] ^= 0x01
			_ = os.WriteFile(p, b, 0o644)
		}},
		{"table cut short", func(t *testing.T, dir string) {
			p := fileWith(t, dir, ".sst")
			st, _ := os.Stat(p)
			_ = os.Truncate(p, st.Size()/2)
		}},
		{"manifest gone", func(t *testing.T, dir string) { _ = os.Remove(fileWith(t, dir, "MANIFEST-")) }},
		// Pebble alone reads a log damaged in its last record as a torn tail, and loses the
		// writes after it without an error: the checksum list catches it.
		{"flipped byte in the log", func(t *testing.T, dir string) {
			p := fileWith(t, dir, ".log")
			b, _ := os.ReadFile(p)
			b[len(b)-20] ^= 0x01
			_ = os.WriteFile(p, b, 0o644)
		}},
		{"checksum list damaged", func(t *testing.T, dir string) {
			p := filepath.Join(dir, ChecksumsFile)
			b, _ := os.ReadFile(p)
			b[3] ^= 0x01
			_ = os.WriteFile(p, b, 0o644)
		}},
		{"checksum list gone", func(t *testing.T, dir string) { _ = os.Remove(filepath.Join(dir, ChecksumsFile)) }},
		{"extra file", func(t *testing.T, dir string) { _ = os.WriteFile(filepath.Join(dir, "000999.sst"), []byte("x"), 0o644) }},
	}
	for _, d := range damage {
		t.Run(d.name, func(t *testing.T) {
			dir := t.TempDir()
			e, err := Open(Options{Dir: filepath.Join(dir, "engine")})
			if err != nil {
				t.Fatal(err)
			}
			b := e.NewBatch()
			for i := range 5000 {
				_ = b.Set([]byte(fmt.Sprintf("key%06d", i)), []byte(strings.Repeat("v", 100)), nil)
			}
			if err := e.Commit(b); err != nil {
				t.Fatal(err)
			}
			b.Close()
			if err := e.Flush(); err != nil {
				t.Fatal(err)
			}
			// Writes after the flush are in the log only.
			b = e.NewBatch()
			for i := range 100 {
				_ = b.Set([]byte(fmt.Sprintf("late%06d", i)), []byte(strings.Repeat("w", 100)), nil)
			}
			if err := e.Commit(b); err != nil {
				t.Fatal(err)
			}
			b.Close()
			ck := filepath.Join(dir, "ck")
			if err := e.Checkpoint(ck); err != nil {
				t.Fatal(err)
			}
			e.Close()
			d.do(t, ck)
			err = VerifyCheckpoint(ck, nil)
			if d.name == "intact" {
				if err != nil {
					t.Fatalf("VerifyCheckpoint of an intact checkpoint: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("VerifyCheckpoint passed a damaged checkpoint")
			}
		})
	}
}

func fileWith(t *testing.T, dir, part string) string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.Contains(e.Name(), part) {
			return filepath.Join(dir, e.Name())
		}
	}
	t.Fatalf("no file with %q in %s", part, dir)
	return ""
}
