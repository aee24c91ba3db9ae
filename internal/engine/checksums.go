package engine

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/cairn-db/cairn/internal/durable"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// A checkpoint travels (a snapshot streamed to a replica that fell behind) and sits on disk;
// either may damage it. Pebble checks its tables block by block, but a write-ahead log damaged
// in its last record reads as a torn tail — the log just ends early — and an install would lose
// the writes after the damage without a word. So Checkpoint lists every file of the copy with
// its size and CRC-32C, and VerifyCheckpoint checks them all before anything trusts the copy.
//
// ChecksumsFile is the list: a text file, one "name size crc" line per file in name order, ending with a
// "crc" line over the lines before it.
const ChecksumsFile = "CAIRN-CHECKSUMS"

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errChecksum is wrapped by every checksum mismatch of a checkpoint.
var errChecksum = errors.New("engine: checkpoint fails its checksums")

func fileCRC(fs vfs.FS, path string) (size int64, sum uint32, err error) {
	f, err := fs.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	h := crc32.New(castagnoli)
	size, err = io.Copy(h, f)
	return size, h.Sum32(), err
}

// checkpointFiles lists the files of a checkpoint, in name order, without the checksum list.
func checkpointFiles(fs vfs.FS, dir string) ([]string, error) {
	names, err := fs.List(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range names {
		if n == ChecksumsFile {
			continue
		}
		st, err := fs.Stat(fs.PathJoin(dir, n))
		if err != nil {
			return nil, err
		}
		if st.IsDir() {
			return nil, fmt.Errorf("engine: checkpoint %s has a directory %s", dir, n)
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return out, nil
}

// tableSums remembers the checksums of an engine's tables. A table file never changes once
// written, and a checkpoint links the engine's tables rather than copying them, so a table is
// read once for its checksum however many checkpoints include it; only the small files (the
// manifest, the options, the write-ahead log) are read every time.
type tableSums struct {
	mu   sync.Mutex
	sums map[string]fileSum
}

// writeChecksums writes the checksum list of the checkpoint in dir and syncs it, taking the
// checksums of tables from ts (and adding the new ones) when ts is not nil.
func writeChecksums(fs vfs.FS, dir string, ts *tableSums) error {
	files, err := checkpointFiles(fs, dir)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	var seen map[string]fileSum
	if ts != nil {
		seen = make(map[string]fileSum, len(files))
		ts.mu.Lock()
		defer ts.mu.Unlock()
	}
	for _, n := range files {
		table := ts != nil && strings.HasSuffix(n, ".sst")
		var sum fileSum
		ok := false
		if table {
			sum, ok = ts.sums[n]
		}
		if !ok {
			size, crc, err := fileCRC(fs, fs.PathJoin(dir, n))
			if err != nil {
				return err
			}
			sum = fileSum{size, crc}
		}
		if table {
			seen[n] = sum
		}
		fmt.Fprintf(&b, "%s %d %08x\n", n, sum.size, sum.sum)
	}
	if ts != nil {
		ts.sums = seen // tables no longer in the engine are forgotten
	}
	fmt.Fprintf(&b, "%08x\n", crc32.Checksum(b.Bytes(), castagnoli))
	if err := durable.WriteFile(fs, fs.PathJoin(dir, ChecksumsFile), b.Bytes()); err != nil {
		return err
	}
	return durable.SyncDir(fs, dir)
}

// verifyChecksums checks every file of the checkpoint in dir against its checksum list: the
// same files, the same sizes, the same CRCs.
func verifyChecksums(fs vfs.FS, dir string) error {
	f, err := fs.Open(fs.PathJoin(dir, ChecksumsFile))
	if err != nil {
		return fmt.Errorf("%w: no checksum list: %v", errChecksum, err)
	}
	data, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		return err
	}
	want, err := parseChecksums(data)
	if err != nil {
		return err
	}
	files, err := checkpointFiles(fs, dir)
	if err != nil {
		return err
	}
	if len(files) != len(want) {
		return fmt.Errorf("%w: %d files, the list has %d", errChecksum, len(files), len(want))
	}
	for _, n := range files {
		w, ok := want[n]
		if !ok {
			return fmt.Errorf("%w: %s is not in the list", errChecksum, n)
		}
		size, sum, err := fileCRC(fs, fs.PathJoin(dir, n))
		if err != nil {
			return err
		}
		if size != w.size || sum != w.sum {
			return fmt.Errorf("%w: %s has %d bytes with crc %08x, the list says %d with %08x", errChecksum, n, size, sum, w.size, w.sum)
		}
	}
	return nil
}

type fileSum struct {
	size int64
	sum  uint32
}

func parseChecksums(data []byte) (map[string]fileSum, error) {
	body, last, ok := cutLastLine(data)
	if !ok {
		return nil, fmt.Errorf("%w: the list is cut short", errChecksum)
	}
	if sum, err := strconv.ParseUint(last, 16, 32); err != nil || uint32(sum) != crc32.Checksum(body, castagnoli) {
		return nil, fmt.Errorf("%w: the list itself is damaged", errChecksum)
	}
	out := map[string]fileSum{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 {
			return nil, fmt.Errorf("%w: bad line %q", errChecksum, sc.Text())
		}
		size, err1 := strconv.ParseInt(f[1], 10, 64)
		sum, err2 := strconv.ParseUint(f[2], 16, 32)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%w: bad line %q", errChecksum, sc.Text())
		}
		out[f[0]] = fileSum{size, uint32(sum)}
	}
	return out, nil
}

// cutLastLine splits "body...\nlast\n" into the body (with its newline) and the last line.
func cutLastLine(data []byte) ([]byte, string, bool) {
	if len(data) == 0 || data[len(data)-1] != '\n' {
		return nil, "", false
	}
	i := bytes.LastIndexByte(data[:len(data)-1], '\n')
	return data[:i+1], string(data[i+1 : len(data)-1]), true
}
