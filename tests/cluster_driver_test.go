package tests

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

// clusterDriver sends commands to a cluster over raw RESP and knows exactly what each outcome
// means: it follows -MOVED and retries -CLUSTERDOWN / -TRYAGAIN (the command was not applied),
// and reports anything else that went wrong after sending as an unknown outcome, never
// retrying it — so a history it records is exactly what the cluster did.
type clusterDriver struct {
	addrs  []string
	target int
	conn   net.Conn
	r      *bufio.Reader
}

var errIndeterminate = errors.New("outcome unknown")

func newClusterDriver(addrs []string, start int) *clusterDriver {
	return &clusterDriver{addrs: slices.Clone(addrs), target: start % len(addrs)}
}

func (d *clusterDriver) close() {
	if d.conn != nil {
		d.conn.Close()
		d.conn = nil
	}
}

func (d *clusterDriver) next() {
	d.close()
	d.target = (d.target + 1) % len(d.addrs)
}

// do runs a command until it has a definite reply or the deadline passes. It returns the reply
// (a RESP error reply is returned as a reply, except redirections and retryable ones), or
// errIndeterminate if the command may or may not have been applied, or another error if it
// surely was not.
func (d *clusterDriver) do(deadline time.Time, args ...string) (string, error) {
	var req strings.Builder
	fmt.Fprintf(&req, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&req, "$%d\r\n%s\r\n", len(a), a)
	}
	for time.Now().Before(deadline) {
		if d.conn == nil {
			c, err := net.DialTimeout("tcp", d.addrs[d.target], 200*time.Millisecond)
			if err != nil {
				d.next()
				time.Sleep(10 * time.Millisecond)
				continue
			}
			d.conn, d.r = c, bufio.NewReader(c)
		}
		_ = d.conn.SetDeadline(time.Now().Add(3 * time.Second))
		if _, err := d.conn.Write([]byte(req.String())); err != nil {
			d.next() // a failed write may still have reached the server
			return "", errIndeterminate
		}
		reply, err := readSimpleReply(d.r)
		if err != nil {
			d.next()
			return "", errIndeterminate
		}
		switch {
		case strings.HasPrefix(reply, "-MOVED "):
			f := strings.Fields(reply)
			d.close()
			if i := slices.Index(d.addrs, f[2]); i >= 0 {
				d.target = i
			} else { // a node that joined
				d.addrs = append(d.addrs, f[2])
				d.target = len(d.addrs) - 1
			}
			continue
		case strings.HasPrefix(reply, "-CLUSTERDOWN"), strings.HasPrefix(reply, "-TRYAGAIN"), strings.HasPrefix(reply, "-READONLY"):
			d.next()
			time.Sleep(10 * time.Millisecond)
			continue
		case strings.HasPrefix(reply, "-ERR The write's outcome is unknown"), strings.HasPrefix(reply, "-ERR The server is shutting down"):
			d.next()
			return "", errIndeterminate
		}
		return reply, nil
	}
	return "", errors.New("deadline passed before the command was sent anywhere")
}

// readSimpleReply reads a reply that is not an aggregate and returns it without its CRLF:
// "+OK", "-ERR ...", ":5", "$-1", or "$" followed by the bulk string's bytes.
func readSimpleReply(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if len(line) == 0 {
		return "", errors.New("empty reply line")
	}
	if line[0] != '$' {
		return line, nil
	}
	n, err := strconv.Atoi(line[1:])
	if err != nil || n < 0 {
		return line, err
	}
	buf := make([]byte, n+2)
	if _, err := ioReadFull(r, buf); err != nil {
		return "", err
	}
	return "$" + string(buf[:n]), nil
}

func ioReadFull(r *bufio.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
