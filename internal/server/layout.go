package server

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cairn-db/cairn/internal/durable"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// layoutVersion is the version of the data directory's layout: where the shards' engines and
// the Raft log live, and how records are keyed. Version 2 put the hash slot into every record
// key and each shard into its own directory (shards/<id>). A directory of another version is
// refused, not misread.
const layoutVersion = 2

const layoutFile = "LAYOUT"

// checkLayout checks that dir holds data of this layout, or nothing yet (then it records the
// layout).
func checkLayout(dir string) error {
	path := filepath.Join(dir, layoutFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		v, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "cairn data layout ")
		if n, err := strconv.Atoi(v); !ok || err != nil {
			return fmt.Errorf("data directory %s: %s is damaged (%q)", dir, layoutFile, b)
		} else if n != layoutVersion {
			return fmt.Errorf("data directory %s has data layout %d; this cairn reads layout %d: move the directory away (or restore it with the cairn that wrote it) and start on an empty one", dir, n, layoutVersion)
		}
		return nil
	case !errors.Is(err, os.ErrNotExist):
		return err
	}
	for _, old := range []string{"engine", "raft"} {
		if _, err := os.Stat(filepath.Join(dir, old)); err == nil {
			return fmt.Errorf("data directory %s was written by an earlier cairn (data layout 1, without %s); this cairn reads layout %d: move the directory away and start on an empty one", dir, layoutFile, layoutVersion)
		}
	}
	return durable.WriteFile(vfs.Default, path, []byte(fmt.Sprintf("cairn data layout %d\n", layoutVersion)))
}
