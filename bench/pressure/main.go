// Command pressure puts one server under a careless or hostile client and reports the server's
// peak memory and the latency other clients see meanwhile, so cairn and redis-server can be run
// side by side (run.sh).
//
//	go run ./bench/pressure -addr 127.0.0.1:6379 -pid 1234 -mode pipeline
//
// Modes:
//   - pipeline: one client pipelines -n GETs of a -size value and reads nothing for -hold, then
//     goes away;
//   - bigset: -clients clients each SET a -size value at once;
//   - sort: SORT of a list of -n elements (LIMIT 0 1), SUNION of two sets of -n/2 and KEYS
//     over -keys keys run one after the other while -smalls clients send PING and GET; the
//     latency of those small requests is reported (-long chooses other long commands).
//
// A probe client PINGs every 10 ms throughout and the largest PING latency is reported; the
// server's resident memory is sampled from /proc every 20 ms.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:6379", "server address")
	pid := flag.Int("pid", 0, "server process id, for its memory")
	mode := flag.String("mode", "pipeline", "pipeline, bigset or sort")
	n := flag.Int("n", 20000, "GETs to pipeline (pipeline), list length (sort)")
	size := flag.Int("size", 1<<20, "value bytes")
	clients := flag.Int("clients", 1, "concurrent clients (bigset)")
	hold := flag.Duration("hold", 15*time.Second, "how long the pipelining client stays without reading")
	name := flag.String("name", "", "label for the result line")
	keys := flag.Int("keys", 1000000, "string keys for KEYS to go through (sort)")
	smalls := flag.Int("smalls", 50, "clients sending PING and GET meanwhile (sort)")
	get := flag.Bool("get", false, "bigset: each client GETs its value back after all the SETs")
	long := flag.String("long", "sort,sunion,keys", "the long commands, in order (sort): sort, sunion, keys, lrange, smembers, sunionstore")
	flag.Parse()

	base := rss(*pid)
	var peak atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // memory sampler
		defer wg.Done()
		for {
			if r := rss(*pid); r > peak.Load() {
				peak.Store(r)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	var maxLat atomic.Int64
	var probeFail atomic.Int64
	go func() { // latency probe
		defer wg.Done()
		c, err := net.Dial("tcp", *addr)
		if err != nil {
			probeFail.Add(1)
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		for {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			t := time.Now()
			_ = c.SetDeadline(t.Add(5 * time.Second))
			if _, err := c.Write([]byte("PING\r\n")); err != nil {
				probeFail.Add(1)
				return
			}
			if _, err := r.ReadString('\n'); err != nil {
				probeFail.Add(1)
				return
			}
			if d := time.Since(t).Microseconds(); d > maxLat.Load() {
				maxLat.Store(d)
			}
		}
	}()

	start := time.Now()
	var detail string
	switch *mode {
	case "pipeline":
		detail = pipeline(*addr, *n, *size, *hold)
	case "bigset":
		detail = bigset(*addr, *clients, *size, *get, *pid)
	case "sort":
		detail = sortList(*addr, *n, *keys, *smalls, *long)
	default:
		fmt.Fprintln(os.Stderr, "unknown mode", *mode)
		os.Exit(2)
	}
	elapsed := time.Since(start)
	// Memory after the client went: give the server a few seconds to return it.
	time.Sleep(3 * time.Second)
	close(stop)
	wg.Wait()
	fmt.Printf("%-6s mode=%s base_rss=%dMB peak_rss=%dMB hwm=%dMB after_rss=%dMB max_ping=%.1fms probe_failures=%d elapsed=%.1fs %s\n",
		*name, *mode, base>>20, peak.Load()>>20, hwm(*pid)>>20, rss(*pid)>>20, float64(maxLat.Load())/1000, probeFail.Load(), elapsed.Seconds(), detail)
}

// rss is the process's resident memory in bytes, from /proc.
func rss(pid int) int64 { return status(pid, "VmRSS:") }

// hwm is the process's peak resident memory in bytes (the kernel's high-water mark, which a
// sampler cannot miss).
func hwm(pid int) int64 { return status(pid, "VmHWM:") }

// status reads one field, in kB, of /proc/pid/status, in bytes.
func status(pid int, field string) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == field {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

func command(args ...string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	return []byte(b.String())
}

func do(c net.Conn, r *bufio.Reader, args ...string) (string, error) {
	if _, err := c.Write(command(args...)); err != nil {
		return "", err
	}
	return readReply(r)
}

// readReply reads one reply, discarding a bulk string's body.
func readReply(r *bufio.Reader) (string, error) {
	l, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	switch l[0] {
	case '$':
		n, _ := strconv.Atoi(strings.TrimSpace(l[1:]))
		if n >= 0 {
			if _, err := io.CopyN(io.Discard, r, int64(n)+2); err != nil {
				return "", err
			}
		}
	case '*':
		n, _ := strconv.Atoi(strings.TrimSpace(l[1:]))
		for i := 0; i < n; i++ {
			if _, err := readReply(r); err != nil {
				return "", err
			}
		}
	}
	return strings.TrimSpace(l), nil
}

func dial(addr string) (net.Conn, *bufio.Reader) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	return c, bufio.NewReaderSize(c, 1<<16)
}

func pipeline(addr string, n, size int, hold time.Duration) string {
	c, r := dial(addr)
	if rep, err := do(c, r, "SET", "pressure:big", strings.Repeat("x", size)); err != nil || rep != "+OK" {
		fmt.Fprintln(os.Stderr, "SET:", rep, err)
		os.Exit(1)
	}
	c.Close()
	c, _ = dial(addr)
	get := command("GET", "pressure:big")
	var batch []byte
	for i := 0; i < n; i++ {
		batch = append(batch, get...)
	}
	go func() { _, _ = c.Write(batch) }()
	time.Sleep(hold)
	// Still connected? The probe, this check and the pipelining client make three.
	ic, ir := dial(addr)
	_, _ = ic.Write(command("INFO", "clients"))
	l, _ := ir.ReadString('\n')
	n2, _ := strconv.Atoi(strings.TrimSpace(l[1:]))
	body := make([]byte, n2+2)
	_, _ = io.ReadFull(ir, body)
	ic.Close()
	connected := ""
	for _, line := range strings.Split(string(body), "\r\n") {
		if v, ok := strings.CutPrefix(line, "connected_clients:"); ok {
			connected = v
		}
	}
	c.Close()
	return "connected_clients_before_close=" + connected
}

func bigset(addr string, clients, size int, get bool, pid int) string {
	val := strings.Repeat("v", size)
	var wg sync.WaitGroup
	errs := make([]string, clients)
	conns := make([]net.Conn, clients)
	readers := make([]*bufio.Reader, clients)
	for i := 0; i < clients; i++ {
		conns[i], readers[i] = dial(addr)
		defer conns[i].Close()
	}
	run := func(args func(i int) []string) {
		for i := 0; i < clients; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				rep, err := do(conns[i], readers[i], args(i)...)
				if err != nil {
					errs[i] = err.Error()
				} else {
					errs[i] = rep
				}
			}(i)
		}
		wg.Wait()
	}
	run(func(i int) []string { return []string{"SET", "pressure:big:" + strconv.Itoa(i), val} })
	detail := "replies=" + strings.ReplaceAll(strings.Join(errs, ","), " ", "_") +
		" set_hwm=" + strconv.FormatInt(hwm(pid)>>20, 10) + "MB"
	if get {
		run(func(i int) []string { return []string{"GET", "pressure:big:" + strconv.Itoa(i)} })
		detail += " get_replies=" + strings.Join(errs, ",")
	}
	return detail
}

// sortList fills a list and two sets of n elements and n/2 each, and keys string keys, then
// runs the long commands named in which (SORT, SUNION and KEYS by default) over them one after
// the other on one connection while smalls clients send PING and GET in a loop; it reports how
// long each long command took and the latency of the small requests meanwhile.
func sortList(addr string, n, keys, smalls int, which string) string {
	c, r := dial(addr)
	defer c.Close()
	_, _ = do(c, r, "DEL", "pressure:list", "pressure:s1", "pressure:s2")
	fill := func(args ...string) {
		if rep, err := do(c, r, args...); err != nil || strings.HasPrefix(rep, "-") {
			fmt.Fprintln(os.Stderr, args[0], rep, err)
			os.Exit(1)
		}
	}
	for i := 0; i < n; i += 1000 {
		list := []string{"RPUSH", "pressure:list"}
		s1 := []string{"SADD", "pressure:s1"}
		s2 := []string{"SADD", "pressure:s2"}
		for j := i; j < i+1000 && j < n; j++ {
			v := strconv.Itoa((j * 7919) % n)
			list = append(list, v)
			if j%2 == 0 {
				s1 = append(s1, v)
			} else {
				s2 = append(s2, v)
			}
		}
		fill(list...)
		fill(s1...)
		fill(s2...)
	}
	for i := 0; i < keys; i += 1000 {
		mset := []string{"MSET"}
		for j := i; j < i+1000 && j < keys; j++ {
			mset = append(mset, "pressure:k:"+strconv.Itoa(j), "v")
		}
		fill(mset...)
	}
	fill("SET", "pressure:small", "v")
	time.Sleep(500 * time.Millisecond) // let the probe settle on a quiet server

	var stop atomic.Bool
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	for i := 0; i < smalls; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			sc, sr := dial(addr)
			defer sc.Close()
			var mine []time.Duration
			for k := 0; !stop.Load(); k++ {
				args := []string{"PING"}
				if k%2 == 1 {
					args = []string{"GET", "pressure:small"}
				}
				t := time.Now()
				_ = sc.SetDeadline(t.Add(30 * time.Second))
				if _, err := do(sc, sr, args...); err != nil {
					fmt.Fprintln(os.Stderr, "small request:", err)
					return
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}(i)
	}
	time.Sleep(200 * time.Millisecond) // the small clients are connected and running
	var out strings.Builder
	longs := map[string][]string{
		"sort":        {"SORT", "pressure:list", "LIMIT", "0", "1"},
		"sunion":      {"SUNION", "pressure:s1", "pressure:s2"},
		"keys":        {"KEYS", "pressure:k:*"},
		"lrange":      {"LRANGE", "pressure:list", "0", "-1"},
		"smembers":    {"SMEMBERS", "pressure:s1"},
		"sunionstore": {"SUNIONSTORE", "pressure:dst", "pressure:s1", "pressure:s2"},
	}
	for _, name := range strings.Split(which, ",") {
		long := longs[name]
		if long == nil {
			fmt.Fprintln(os.Stderr, "unknown long command", name)
			os.Exit(2)
		}
		t := time.Now()
		rep, err := do(c, r, long...)
		if err != nil || strings.HasPrefix(rep, "-") {
			fmt.Fprintln(os.Stderr, long[0], rep, err)
			os.Exit(1)
		}
		fmt.Fprintf(&out, "%s=%.0fms ", strings.ToLower(long[0]), float64(time.Since(t).Microseconds())/1000)
	}
	stop.Store(true)
	wg.Wait()
	slices.Sort(lat)
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	fmt.Fprintf(&out, "small_requests=%d p50=%.2fms p99=%.2fms p999=%.2fms max=%.2fms",
		len(lat), pct(0.5), pct(0.99), pct(0.999), pct(1))
	return out.String()
}
