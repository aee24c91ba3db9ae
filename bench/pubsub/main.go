// Command pubsub measures pub/sub fan-out: one publisher sends messages to one channel with N
// subscribers, and the program reports how many messages per second reach the subscribers
// (messages published × subscribers / time until the last subscriber has the last message).
//
//	go run ./bench/pubsub -addr 127.0.0.1:6379 -subs 100 -msgs 20000 -pipeline 32
//
// It speaks raw RESP so the client costs as little as possible: subscribers count bytes (every
// message has the same size) rather than parse, and the publisher pipelines PUBLISH.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:6379", "server address")
	subs := flag.Int("subs", 100, "subscribers")
	msgs := flag.Int("msgs", 20000, "messages to publish")
	size := flag.Int("size", 32, "payload bytes")
	pipeline := flag.Int("pipeline", 32, "PUBLISH commands in flight")
	name := flag.String("name", "", "label for the result line")
	flag.Parse()
	if err := run(*addr, *subs, *msgs, *size, *pipeline, *name); err != nil {
		fmt.Fprintln(os.Stderr, "pubsub:", err)
		os.Exit(1)
	}
}

const channel = "bench:fanout"

func command(args ...string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	return []byte(b.String())
}

func run(addr string, nsubs, msgs, size, pipeline int, name string) error {
	payload := strings.Repeat("x", size)
	frame := fmt.Sprintf("*3\r\n$7\r\nmessage\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", len(channel), channel, size, payload)
	want := int64(len(frame)) * int64(msgs)

	var wg sync.WaitGroup
	errs := make(chan error, nsubs+1)
	ready := make(chan struct{}, nsubs)
	finished := make(chan time.Time, nsubs)
	for i := 0; i < nsubs; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return err
		}
		defer c.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Write(command("SUBSCRIBE", channel)); err != nil {
				errs <- err
				return
			}
			r := bufio.NewReaderSize(c, 64<<10)
			confirm := fmt.Sprintf("*3\r\n$9\r\nsubscribe\r\n$%d\r\n%s\r\n:1\r\n", len(channel), channel)
			buf := make([]byte, len(confirm))
			if _, err := io.ReadFull(r, buf); err != nil || string(buf) != confirm {
				errs <- fmt.Errorf("subscribe confirmation %q: %v", buf, err)
				return
			}
			ready <- struct{}{}
			n, err := io.CopyN(io.Discard, r, want)
			if err != nil {
				errs <- fmt.Errorf("subscriber got %d of %d bytes: %v", n, want, err)
				return
			}
			finished <- time.Now()
		}()
	}
	for i := 0; i < nsubs; i++ {
		select {
		case <-ready:
		case err := <-errs:
			return err
		}
	}

	pub, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer pub.Close()
	req := command("PUBLISH", channel, payload)
	reply := ":" + strconv.Itoa(nsubs) + "\r\n"
	r := bufio.NewReaderSize(pub, 64<<10)
	w := bufio.NewWriterSize(pub, 64<<10)
	start := time.Now()
	for sent := 0; sent < msgs; {
		batch := min(pipeline, msgs-sent)
		for i := 0; i < batch; i++ {
			w.Write(req)
		}
		if err := w.Flush(); err != nil {
			return err
		}
		for i := 0; i < batch; i++ {
			line, err := r.ReadString('\n')
			if err != nil {
				return err
			}
			if line != reply {
				return fmt.Errorf("PUBLISH replied %q, want %q", line, reply)
			}
		}
		sent += batch
	}
	published := time.Since(start)
	var last time.Time
	for i := 0; i < nsubs; i++ {
		select {
		case t := <-finished:
			if t.After(last) {
				last = t
			}
		case err := <-errs:
			return err
		case <-time.After(60 * time.Second):
			return fmt.Errorf("subscribers did not receive everything within 60s")
		}
	}
	wg.Wait()
	elapsed := last.Sub(start)
	fmt.Printf("%-12s subs=%d msgs=%d size=%d pipeline=%d  publish %.0f/s  delivered %.0f msg/s  (%.2fs)\n",
		name, nsubs, msgs, size, pipeline, float64(msgs)/published.Seconds(),
		float64(msgs)*float64(nsubs)/elapsed.Seconds(), elapsed.Seconds())
	return nil
}
