package transport

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/time/rate"
)

// chunkSize is how much of a file one snapshot frame carries.
const chunkSize = 1 << 20

// SnapshotBytes are the bytes of snapshot files this bus has sent and received.
func (b *Bus) SnapshotBytes() (sent, received int64) {
	return b.snapSent.Load(), b.snapReceived.Load()
}

// SendSnapshot implements replica.Network: it streams every file of dir (recursively) to the
// peer on a connection of its own, in chunks, and waits for the peer to acknowledge.
func (b *Bus) SendSnapshot(to uint64, header []byte, dir string) error {
	addr, ok := b.PeerAddr(to)
	if !ok {
		return fmt.Errorf("transport: no address for node %d", to)
	}
	c, err := b.dial(addr, b.opts.DialTimeout)
	if err != nil {
		return err
	}
	defer c.Close()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		select {
		case <-b.stop:
			c.Close()
		case <-stop:
		}
	}()
	w := bufio.NewWriterSize(c, chunkSize+64)
	if err := writeFrame(w, frameHello, helloBody(b.id.Load(), purposeSnapshot)); err != nil {
		return err
	}
	if err := writeFrame(w, frameSnapHead, header); err != nil {
		return err
	}
	// Open every file before sending any: a checkpoint is immutable once written, and an open
	// file survives the directory's removal.
	var files []string
	err = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-b.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	buf := make([]byte, chunkSize)
	for _, path := range files {
		rel, _ := filepath.Rel(dir, path)
		if err := writeFrame(w, frameFile, []byte(filepath.ToSlash(rel))); err != nil {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		for {
			n, rerr := f.Read(buf)
			if n > 0 {
				if err := b.paceSnapshot(ctx, n); err != nil {
					f.Close()
					return err
				}
				if err := writeFrame(w, frameChunk, buf[:n]); err != nil {
					f.Close()
					return err
				}
				b.snapSent.Add(int64(n))
			}
			if rerr == io.EOF {
				break
			}
			if rerr != nil {
				f.Close()
				return rerr
			}
		}
		f.Close()
	}
	if err := writeFrame(w, frameEnd); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Minute))
	typ, body, err := readFrame(bufio.NewReader(c), b.opts.MaxPayload)
	if err != nil {
		return err
	}
	if typ != frameReply || len(body) < 9 {
		return errors.New("transport: bad snapshot acknowledgement")
	}
	if body[8] != 0 {
		return &RemoteError{Msg: string(body[9:])}
	}
	return nil
}

// paceSnapshot waits until n more bytes of snapshot may be sent under the node's snapshot
// rate, as CockroachDB bounds its snapshot streams: a replica moving to a new node must not take
// the bandwidth and disk its clients need.
func (b *Bus) paceSnapshot(ctx context.Context, n int) error {
	limit := rate.Inf
	if b.opts.SnapshotRate != nil {
		if r := b.opts.SnapshotRate(); r > 0 {
			limit = rate.Limit(r)
		}
	}
	if b.snapLimit.Limit() != limit {
		b.snapLimit.SetLimit(limit)
	}
	return b.snapLimit.WaitN(ctx, n)
}

// receiveSnapshot writes a snapshot stream into a fresh directory under the inbox, syncs it,
// hands it to the handler and acknowledges.
func (b *Bus) receiveSnapshot(from uint64, r *bufio.Reader, w *lockedWriter) {
	ack := func(err error) {
		status, msg := byte(0), []byte(nil)
		if err != nil {
			status, msg = 1, []byte(err.Error())
		}
		_ = w.frame(frameReply, make([]byte, 8), []byte{status}, msg)
	}
	inbox := b.opts.Handler.SnapshotInbox()
	if err := os.MkdirAll(inbox, 0o755); err != nil {
		ack(err)
		return
	}
	dir, err := os.MkdirTemp(inbox, fmt.Sprintf("from-%d-", from))
	if err != nil {
		ack(err)
		return
	}
	keep := false
	defer func() {
		if !keep {
			os.RemoveAll(dir)
		}
	}()
	typ, header, err := readFrame(r, b.opts.MaxPayload)
	if err != nil || typ != frameSnapHead {
		return
	}
	var f *os.File
	closeFile := func() error {
		if f == nil {
			return nil
		}
		err := f.Sync()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		f = nil
		return err
	}
	defer closeFile()
	for {
		typ, body, err := readFrame(r, b.opts.MaxPayload)
		if err != nil {
			return
		}
		switch typ {
		case frameFile:
			if err := closeFile(); err != nil {
				ack(err)
				return
			}
			name := filepath.FromSlash(string(body))
			if name == "" || filepath.IsAbs(name) || strings.HasPrefix(filepath.Clean(name), "..") {
				ack(errors.New("bad file name in snapshot"))
				return
			}
			path := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				ack(err)
				return
			}
			if f, err = os.Create(path); err != nil {
				ack(err)
				return
			}
		case frameChunk:
			if f == nil {
				ack(errors.New("snapshot chunk before a file"))
				return
			}
			if _, err := f.Write(body); err != nil {
				ack(err)
				return
			}
			b.snapReceived.Add(int64(len(body)))
		case frameEnd:
			if err := closeFile(); err != nil {
				ack(err)
				return
			}
			if err := syncDir(dir); err != nil {
				ack(err)
				return
			}
			err := b.opts.Handler.ReceiveSnapshot(from, header, dir)
			keep = err == nil
			ack(err)
			return
		default:
			return
		}
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
