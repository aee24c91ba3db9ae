package sim

import (
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"time"

	"github.com/cairn-db/cairn/internal/durable"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/zeebo/xxh3"
)

// Network carries payloads between simulated nodes: each one is delayed, and may be dropped,
// duplicated (and so reordered), or cut off by a partition.
type Network struct {
	w *World
	// blocked[from][to] cuts the link from one node to another (one way).
	blocked map[[2]uint64]bool
	// drop is the chance a payload is lost; dup that it arrives twice; spike that it is held
	// up far longer than usual; corruptSnap that a snapshot stream has a bit flipped.
	drop, dup, spike, corruptSnap float64
}

func newNetwork(w *World) *Network {
	return &Network{w: w, blocked: map[[2]uint64]bool{}, drop: 0.01, dup: 0.01, spike: 0.02, corruptSnap: 0.3}
}

func (nw *Network) cut(from, to uint64) bool { return nw.blocked[[2]uint64{from, to}] }

func (nw *Network) node(id uint64) *Node { return nw.w.nodes[id-1] }

// latency is one payload's time in flight.
func (nw *Network) latency() time.Duration {
	w := nw.w
	if w.chance(nw.spike) {
		w.faults.Spikes++
		return w.between(50*time.Millisecond, 800*time.Millisecond)
	}
	return w.between(500*time.Microsecond, 8*time.Millisecond)
}

type packet struct {
	from, to uint64
	payload  []byte
}

// endpoint is a node's end of the network (replica.Network).
type endpoint struct {
	net  *Network
	from uint64
	out  []packet
}

// Send implements replica.Network. Payloads wait in the outbox until the node's round is over:
// the host sends to its peers in map order, and the outbox is put in peer order before any
// randomness is drawn for it.
func (e *endpoint) Send(to uint64, payload []byte) bool {
	e.out = append(e.out, packet{e.from, to, append([]byte(nil), payload...)})
	return true
}

// SetPeer implements replica.Network; simulated nodes are reached by ID.
func (e *endpoint) SetPeer(uint64, string) {}

// flush puts the round's payloads in flight.
func (e *endpoint) flush() {
	out := e.out
	e.out = nil
	sort.SliceStable(out, func(i, j int) bool { return out[i].to < out[j].to })
	nw := e.net
	w := nw.w
	for _, p := range out {
		sum := xxh3.Hash(p.payload)
		if nw.cut(p.from, p.to) || w.chance(nw.drop) {
			w.faults.Dropped++
			w.tracef("msg n%d->n%d %x dropped", p.from, p.to, sum)
			continue
		}
		copies := 1
		if w.chance(nw.dup) {
			copies = 2
			w.faults.Duplicated++
		}
		for range copies {
			d := nw.latency()
			w.tracef("msg n%d->n%d %x in %v", p.from, p.to, sum, d)
			w.after(d, func() { nw.deliver(p, sum) })
		}
	}
}

func (nw *Network) deliver(p packet, sum uint64) {
	to := nw.node(p.to)
	if !to.up || nw.cut(p.from, p.to) {
		nw.w.faults.Dropped++
		nw.w.tracef("msg n%d->n%d %x lost on arrival", p.from, p.to, sum)
		return
	}
	nw.w.faults.Delivered++
	if err := to.host.Deliver(p.from, p.payload); err != nil {
		nw.w.problem("n%d refused a payload from n%d: %v", p.to, p.from, err)
	}
	to.dirty = true
}

type snapFile struct {
	name string
	data []byte
}

var errUnreachable = errors.New("sim: peer unreachable")

// SendSnapshot implements replica.Network. The host runs it inline (HostConfig.Go), in its
// round: the checkpoint's files are read now and arrive after a delay; a stream to an
// unreachable peer fails at once.
func (e *endpoint) SendSnapshot(to uint64, header []byte, dir string) error {
	nw := e.net
	w := nw.w
	src := nw.node(e.from)
	if !nw.node(to).up || nw.cut(e.from, to) || nw.cut(to, e.from) {
		w.tracef("snapshot n%d->n%d refused: unreachable", e.from, to)
		return errUnreachable
	}
	var files []snapFile
	size := 0
	if err := readTree(src.fs, dir, "", &files); err != nil {
		return err
	}
	for _, f := range files {
		size += len(f.data)
	}
	w.faults.SnapshotsSent++
	if w.chance(nw.corruptSnap) && size > 0 {
		// A bit flips on the way: the receiver must refuse the copy, not install it.
		i := w.rng.IntN(len(files))
		for len(files[i].data) == 0 {
			i = (i + 1) % len(files)
		}
		f := &files[i]
		f.data = append([]byte(nil), f.data...)
		f.data[w.rng.IntN(len(f.data))] ^= byte(1 << w.rng.IntN(8))
		w.faults.SnapshotsCorrupted++
		w.tracef("snapshot n%d->n%d: %s damaged in transit", e.from, to, f.name)
	}
	d := nw.latency() + time.Duration(size/(100<<10))*time.Millisecond
	w.tracef("snapshot n%d->n%d %d files %d bytes in %v", e.from, to, len(files), size, d)
	header = append([]byte(nil), header...)
	w.after(d, func() { nw.deliverSnapshot(e.from, to, header, files) })
	return nil
}

// readTree reads every file under dir.
func readTree(fs vfs.FS, dir, rel string, out *[]snapFile) error {
	names, err := fs.List(path.Join(dir, rel))
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		r := path.Join(rel, name)
		st, err := fs.Stat(path.Join(dir, r))
		if err != nil {
			return err
		}
		if st.IsDir() {
			if err := readTree(fs, dir, r, out); err != nil {
				return err
			}
			continue
		}
		f, err := fs.Open(path.Join(dir, r))
		if err != nil {
			return err
		}
		data, err := io.ReadAll(f)
		f.Close()
		if err != nil {
			return err
		}
		*out = append(*out, snapFile{r, data})
	}
	return nil
}

// deliverSnapshot writes a snapshot's files into the receiver's inbox and syncs them, as the
// transport's receiving end does, then hands them to its host.
func (nw *Network) deliverSnapshot(from, to uint64, header []byte, files []snapFile) {
	w := nw.w
	n := nw.node(to)
	if !n.up || nw.cut(from, to) {
		w.faults.SnapshotsDropped++
		w.tracef("snapshot n%d->n%d lost on arrival", from, to)
		return
	}
	fs := n.fs
	w.seq++
	dir := path.Join(n.host.SnapshotInbox(), fmt.Sprintf("from-%d-%d", from, w.seq))
	if err := writeTree(fs, dir, files); err != nil {
		// The receiver's disk failed: the stream fails and the leader will try again.
		w.tracef("snapshot n%d->n%d not written: %v", from, to, err)
		_ = fs.RemoveAll(dir)
		return
	}
	if err := n.host.ReceiveSnapshot(from, header, dir); err != nil {
		w.faults.SnapshotsRefused++
		w.tracef("snapshot n%d->n%d refused: %v", from, to, err)
		_ = fs.RemoveAll(dir)
		return
	}
	w.tracef("snapshot n%d->n%d received", from, to)
	n.dirty = true
}

func writeTree(fs vfs.FS, dir string, files []snapFile) error {
	if err := fs.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, sf := range files {
		p := path.Join(dir, sf.name)
		if err := fs.MkdirAll(path.Dir(p), 0o755); err != nil {
			return err
		}
		if err := durable.WriteFile(fs, p, sf.data); err != nil {
			return err
		}
	}
	return durable.SyncDir(fs, dir)
}
