package tests

import (
	"strconv"
	"strings"
	"testing"

	"github.com/cairn-db/cairn/internal/servertest"
)

// groupField reads one field of group i in XINFO GROUPS, "nil" for a null.
func groupField(t *testing.T, c *servertest.Conn, key string, i int, field string) string {
	t.Helper()
	v := colParse(t, c.Do("XINFO", "GROUPS", key))
	g := v.items[i]
	for j := 0; j+1 < len(g.items); j += 2 {
		if g.items[j].str == field {
			switch it := g.items[j+1]; it.kind {
			case ':':
				return strconv.FormatInt(it.n, 10)
			case '_':
				return "nil"
			default:
				return it.str
			}
		}
	}
	t.Fatalf("no %s in %+v", field, g)
	return ""
}

// lagCheck is a step of a lag scenario: run args (if any), then expect entries-read and lag of
// the groups, in name order ("read/lag" per group).
type lagCheck struct {
	args []string
	want []string
}

func runLag(t *testing.T, checks []lagCheck) {
	t.Helper()
	srv := servertest.Start(t)
	c := srv.Dial()
	for _, ck := range checks {
		if ck.args != nil {
			if got := c.Do(ck.args...); strings.HasPrefix(got, "-") {
				t.Fatalf("%v = %q", ck.args, got)
			}
		}
		for i, w := range ck.want {
			got := groupField(t, c, "x", i, "entries-read") + "/" + groupField(t, c, "x", i, "lag")
			if got != w {
				t.Fatalf("after %v: group %d entries-read/lag = %s, want %s", ck.args, i, got, w)
			}
		}
	}
}

// The scenarios of Redis's "Consumer group read counter and lag" tests.
func TestStreamsLagSanity(t *testing.T) {
	steps := []lagCheck{}
	for i := 1; i <= 5; i++ {
		steps = append(steps, lagCheck{args: cmd("XADD", "x", strconv.Itoa(i)+"-0", "data", "a")})
	}
	steps = append(steps,
		lagCheck{cmd("XGROUP", "CREATE", "x", "g1", "0"), []string{"nil/5"}},
		lagCheck{cmd("XREADGROUP", "GROUP", "g1", "c11", "COUNT", "1", "STREAMS", "x", ">"), []string{"1/4"}},
		lagCheck{cmd("XREADGROUP", "GROUP", "g1", "c12", "COUNT", "10", "STREAMS", "x", ">"), []string{"5/0"}},
		lagCheck{cmd("XADD", "x", "6-0", "data", "f"), []string{"5/1"}},
	)
	runLag(t, steps)
}

func TestStreamsLagWithDeletes(t *testing.T) {
	steps := []lagCheck{}
	for i := 1; i <= 5; i++ {
		steps = append(steps, lagCheck{args: cmd("XADD", "x", strconv.Itoa(i)+"-0", "data", "a")})
	}
	read := cmd("XREADGROUP", "GROUP", "g1", "c11", "COUNT", "1", "STREAMS", "x", ">")
	steps = append(steps,
		lagCheck{args: cmd("XDEL", "x", "3-0")},
		lagCheck{args: cmd("XGROUP", "CREATE", "x", "g1", "0")},
		lagCheck{cmd("XGROUP", "CREATE", "x", "g2", "0"), []string{"nil/nil"}},
		lagCheck{read, []string{"nil/nil"}},
		lagCheck{read, []string{"nil/nil"}},
		lagCheck{read, []string{"nil/nil"}},
		lagCheck{read, []string{"5/0"}},
		lagCheck{cmd("XADD", "x", "6-0", "data", "f"), []string{"5/1"}},
		lagCheck{cmd("XTRIM", "x", "MINID", "=", "3-0"), []string{"5/1", "nil/3"}},
		lagCheck{cmd("XTRIM", "x", "MINID", "=", "5-0"), []string{"5/1", "nil/2"}},
	)
	runLag(t, steps)
}

func TestStreamsLagTombstoneAfterPosition(t *testing.T) {
	runLag(t, []lagCheck{
		{args: cmd("XGROUP", "CREATE", "x", "g1", "$", "MKSTREAM")},
		{args: cmd("XADD", "x", "1-0", "data", "a")},
		{cmd("XREADGROUP", "GROUP", "g1", "alice", "STREAMS", "x", ">"), []string{"1/0"}},
		{args: cmd("XADD", "x", "2-0", "data", "c")},
		{args: cmd("XADD", "x", "3-0", "data", "d")},
		{cmd("XDEL", "x", "2-0"), []string{"1/nil"}},
		{cmd("XDEL", "x", "1-0"), []string{"1/1"}},
		{cmd("XREADGROUP", "GROUP", "g1", "alice", "STREAMS", "x", ">"), []string{"3/0"}},
	})
}

func TestStreamsLagWithTrim(t *testing.T) {
	steps := []lagCheck{{args: cmd("XGROUP", "CREATE", "x", "mygroup", "$", "MKSTREAM")}}
	for i := 1; i <= 5; i++ {
		steps = append(steps, lagCheck{args: cmd("XADD", "x", strconv.Itoa(i)+"-0", "data", "a")})
	}
	steps = append(steps,
		lagCheck{cmd("XREADGROUP", "GROUP", "mygroup", "alice", "COUNT", "1", "STREAMS", "x", ">"), []string{"1/4"}},
		lagCheck{cmd("XTRIM", "x", "MAXLEN", "1"), []string{"1/1"}},
		lagCheck{cmd("XREADGROUP", "GROUP", "mygroup", "alice", "STREAMS", "x", ">"), []string{"5/0"}},
		lagCheck{cmd("XADD", "x", "6-0", "data", "f"), []string{"5/1"}},
		lagCheck{cmd("XTRIM", "x", "MAXLEN", "0"), []string{"5/0"}},
	)
	runLag(t, steps)
}

func TestStreamsLagEntriesReadCapped(t *testing.T) {
	runLag(t, []lagCheck{
		{args: cmd("XADD", "x", "1-0", "field", "value")},
		{cmd("XGROUP", "CREATE", "x", "g", "$", "ENTRIESREAD", "9999"), []string{"1/0"}},
		{cmd("XGROUP", "SETID", "x", "g", "$", "ENTRIESREAD", "9999"), []string{"1/0"}},
		{cmd("XGROUP", "SETID", "x", "g", "0"), []string{"nil/1"}},
	})
}

// TestStreamsApproxTrim checks "~" trimming: whole nodes of 100 entries, LIMIT, and the
// reference policies.
func TestStreamsApproxTrim(t *testing.T) {
	srv := servertest.Start(t)
	c := srv.Dial()
	for i := 1; i <= 250; i++ {
		c.Do("XADD", "s", strconv.Itoa(i)+"-0", "f", "v")
	}
	runScript(t, c, []step{
		{cmd("XTRIM", "s", "MAXLEN", "~", "200"), integer(0)},
		{cmd("XTRIM", "s", "MAXLEN", "~", "10", "LIMIT", "150"), integer(100)},
		{cmd("XLEN", "s"), integer(150)},
		{cmd("XTRIM", "s", "MAXLEN", "~", "10", "LIMIT", "0"), integer(100)},
		{cmd("XTRIM", "s", "MINID", "~", "250"), integer(0)},
		{cmd("XTRIM", "s", "MAXLEN", "=", "10"), integer(40)},
		{cmd("XRANGE", "s", "-", "+", "COUNT", "1"), array(array(bulk("241-0"), array(bulk("f"), bulk("v"))))},
		// ACKED keeps what a group still needs; DELREF drops the PEL references too.
		{cmd("XGROUP", "CREATE", "s", "g", "245-0"), ok},
		{cmd("XREADGROUP", "GROUP", "g", "c", "COUNT", "2", "STREAMS", "s", ">"), array(array(bulk("s"),
			array(array(bulk("246-0"), array(bulk("f"), bulk("v"))), array(bulk("247-0"), array(bulk("f"), bulk("v"))))))},
		{cmd("XTRIM", "s", "MAXLEN", "0", "ACKED"), integer(5)},
		{cmd("XLEN", "s"), integer(5)},
		{cmd("XTRIM", "s", "MINID", "248", "DELREF"), integer(2)},
		{cmd("XPENDING", "s", "g"), array(integer(0), nilBulk, nilBulk, "*-1\r\n")},
		{cmd("XADD", "s", "KEEPREF", "MAXLEN", "1", "251-0", "f", "v"), bulk("251-0")},
		{cmd("XLEN", "s"), integer(1)},
	})
}
