package cluster

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
)

// Name is the 40-character node name Redis Cluster clients expect, for a node ID. It keeps
// the ID readable: the hexadecimal ID, zero-padded.
func Name(id uint64) string { return fmt.Sprintf("%040x", id) }

// ParseName returns the node ID a name stands for.
func ParseName(name string) (uint64, bool) {
	if len(name) != 40 {
		return 0, false
	}
	id, err := strconv.ParseUint(strings.TrimLeft(name, "0"), 16, 64)
	return id, err == nil && id != 0
}

// InitialNode is one node of the initial address list.
type InitialNode struct {
	ID   uint64
	Addr string // host:port of the client port
}

// ParseInitial parses the initial node list ("host:port,host:port,...") and numbers the nodes
// 1..n in sorted address order, so every node derives the same IDs whatever order it was given
// the list in.
func ParseInitial(list string) ([]InitialNode, error) {
	var addrs []string
	for _, a := range strings.Split(list, ",") {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		if _, _, err := SplitHostPort(a); err != nil {
			return nil, err
		}
		if slices.Contains(addrs, a) {
			return nil, fmt.Errorf("address %s listed twice", a)
		}
		addrs = append(addrs, a)
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("empty node list")
	}
	slices.Sort(addrs)
	out := make([]InitialNode, len(addrs))
	for i, a := range addrs {
		out[i] = InitialNode{ID: uint64(i + 1), Addr: a}
	}
	return out, nil
}

// SplitHostPort splits host:port and checks the port.
func SplitHostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("bad address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port <= 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad port in %q", addr)
	}
	return host, port, nil
}

// BusAddr is the bus address of a node whose client address is addr: the port plus 10000, as
// Redis Cluster.
func BusAddr(addr string) (string, error) {
	host, port, err := SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	if port+10000 > 65535 {
		return "", fmt.Errorf("port %d has no bus port (port + 10000 > 65535): set cluster-port", port)
	}
	return net.JoinHostPort(host, strconv.Itoa(port+10000)), nil
}
