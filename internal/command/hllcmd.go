package command

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/cairn-db/cairn/internal/keyspace"
)

// The HyperLogLog commands. A HyperLogLog is a string value (hll.go has the format), so TYPE
// says "string", GET returns its bytes and SET may store one made elsewhere.

func init() {
	Register(
		&Command{Name: "pfadd", Run: runPFAdd},
		&Command{Name: "pfcount", Run: runPFCount},
		&Command{Name: "pfmerge", Run: runPFMerge},
		&Command{Name: "pfdebug", Run: runPFDebug},
		&Command{Name: "pfselftest", Run: runPFSelfTest},
	)
}

// lookupHLL reads key, which must hold a valid HyperLogLog or nothing. Another type writes
// WRONGTYPE, a string that is not a HyperLogLog Redis's own WRONGTYPE text for it.
func (c *Ctx) lookupHLL(key []byte) (keyspace.Entry, bool) {
	e, ok := c.lookupString(key)
	if !ok {
		return e, false
	}
	if e.Exists() && !isHLL(e.Value) {
		c.Err(errHLLWrongType)
		return e, false
	}
	return e, true
}

func (c *Ctx) hllSparseMax() int64 { return c.encodingLimits().HLLSparseMaxBytes.Load() }

// storeHLL writes v as key's value, keeping its expiry.
func (c *Ctx) storeHLL(key []byte, e *keyspace.Entry, v []byte) bool {
	setString(e, v, 0, true)
	return c.put(key, e)
}

func runPFAdd(c *Ctx) {
	key := c.Args[1]
	e, ok := c.lookupHLL(key)
	if !ok {
		return
	}
	var v []byte
	updated := !e.Exists()
	if updated {
		v = newHLL()
	} else {
		v = bytes.Clone(e.Value)
	}
	sparseMax := c.hllSparseMax()
	for _, ele := range c.Args[2:] {
		var changed bool
		if v, changed, ok = hllAdd(v, ele, sparseMax); !ok {
			c.Err(errHLLCorrupt)
			return
		}
		updated = updated || changed
	}
	if updated {
		hllInvalidate(v)
		if !c.storeHLL(key, &e, v) {
			return
		}
		c.Tx.Notify('$', "pfadd", key)
	}
	c.W.Int(b2i(updated))
}

// runPFCount estimates one HyperLogLog's cardinality, or the cardinality of the union of several.
// For one key it answers from the cached cardinality when that is current; otherwise it
// computes it and, as Redis does, stores it in the header, which is a write: a read asks to be
// run again in apply (WantWrite), where the same bytes give the same count on every replica.
func runPFCount(c *Ctx) {
	if len(c.Args) > 2 {
		pfcountUnion(c)
		return
	}
	key := c.Args[1]
	e, ok := c.lookupHLL(key)
	if !ok {
		return
	}
	if !e.Exists() {
		c.W.Int(0)
		return
	}
	if hllCacheValid(e.Value) {
		c.W.Int(int64(hllCached(e.Value)))
		return
	}
	card, ok := hllCount(e.Value)
	if !ok {
		c.Err(errHLLCorrupt)
		return
	}
	if c.InApply {
		v := bytes.Clone(e.Value)
		hllSetCache(v, card)
		if !c.storeHLL(key, &e, v) {
			return
		}
	} else {
		c.WantWrite = true
	}
	c.W.Int(int64(card))
}

func pfcountUnion(c *Ctx) {
	var max [hllRegisters]uint8
	for _, key := range c.Args[1:] {
		if !c.mergeHLL(key, &max, nil) {
			return
		}
	}
	c.W.Int(int64(hllCountRaw(&max)))
}

// mergeHLL raises max's registers to those of the HyperLogLog at key (none if key is missing),
// noting in dense whether it is dense. It writes the error reply and returns false on failure.
func (c *Ctx) mergeHLL(key []byte, max *[hllRegisters]uint8, dense *bool) bool {
	e, ok := c.lookupHLL(key)
	if !ok {
		return false
	}
	if !e.Exists() {
		return true
	}
	if dense != nil && e.Value[4] == hllDense {
		*dense = true
	}
	if !hllMergeInto(max, e.Value) {
		c.Err(errHLLCorrupt)
		return false
	}
	return true
}

// runPFMerge merges the sources and the destination itself into the destination, which stays
// sparse unless one of them was dense, as in Redis.
func runPFMerge(c *Ctx) {
	var max [hllRegisters]uint8
	useDense := false
	for _, key := range c.Args[1:] {
		if !c.mergeHLL(key, &max, &useDense) {
			return
		}
	}
	dest := c.Args[1]
	e, ok := c.lookupHLL(dest)
	if !ok {
		return
	}
	v := newHLL()
	if e.Exists() {
		v = bytes.Clone(e.Value)
	}
	if useDense {
		if v, ok = hllToDense(v); !ok {
			c.Err(errHLLCorrupt)
			return
		}
		regs := v[hllHdrSize:]
		for i, m := range max {
			denseSet(regs, i, m)
		}
	} else {
		sparseMax := c.hllSparseMax()
		for i, m := range max {
			if m != 0 {
				// Redis ignores a corrupt destination here: the sources were all valid, and
				// the destination was one of them.
				v, _, _ = hllSet(v, i, m, sparseMax)
			}
		}
	}
	hllInvalidate(v)
	if !c.storeHLL(dest, &e, v) {
		return
	}
	c.Tx.Notify('$', "pfadd", dest)
	c.W.OK()
}

// runPFDebug is PFDEBUG GETREG|DECODE|ENCODING|TODENSE key. GETREG and TODENSE turn a sparse
// value dense and keep it so, as Redis does.
func runPFDebug(c *Ctx) {
	sub := strings.ToLower(string(c.Args[1]))
	key := c.Args[2]
	e, ok := c.lookupHLL(key)
	if !ok {
		return
	}
	if !e.Exists() {
		c.Err("ERR The specified key does not exist")
		return
	}
	v := e.Value
	switch sub {
	case "getreg":
		if v, ok = c.pfdebugToDense(key, &e); !ok {
			return
		}
		c.W.Array(hllRegisters)
		for i := 0; i < hllRegisters; i++ {
			c.W.Int(int64(denseGet(v[hllHdrSize:], i)))
		}
	case "decode":
		if v[4] != hllSparse {
			c.Err("ERR HLL encoding is not sparse")
			return
		}
		c.W.BulkString(hllDecode(v[hllHdrSize:]))
	case "encoding":
		if v[4] == hllDense {
			c.W.Status("dense")
		} else {
			c.W.Status("sparse")
		}
	case "todense":
		sparse := v[4] == hllSparse
		if _, ok = c.pfdebugToDense(key, &e); ok {
			c.W.Int(b2i(sparse))
		}
	default:
		c.Err("ERR Unknown PFDEBUG subcommand '" + string(c.Args[1]) + "'")
	}
}

// pfdebugToDense makes the HyperLogLog at key dense, storing it if it was sparse.
func (c *Ctx) pfdebugToDense(key []byte, e *keyspace.Entry) ([]byte, bool) {
	if e.Value[4] == hllDense {
		return e.Value, true
	}
	dense, ok := hllToDense(e.Value)
	if !ok {
		c.Err(errHLLCorrupt)
		return nil, false
	}
	return dense, c.storeHLL(key, e, dense)
}

// hllDecode lists sparse opcodes as PFDEBUG DECODE does: "z:len", "Z:len" and "v:value,len".
func hllDecode(sp []byte) string {
	var b strings.Builder
	for p := 0; p < len(sp); {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		switch {
		case spIsZero(sp[p]):
			b.WriteString("z:" + strconv.Itoa(spZeroLen(sp[p])))
			p++
		case spIsXZero(sp[p]):
			var next byte // Redis reads the string's terminator past a truncated opcode
			if p+1 < len(sp) {
				next = sp[p+1]
			}
			b.WriteString("Z:" + strconv.Itoa(spXZeroLen([]byte{sp[p], next})))
			p += 2
		default:
			b.WriteString("v:" + strconv.Itoa(spValValue(sp[p])) + "," + strconv.Itoa(spValLen(sp[p])))
			p++
		}
	}
	return b.String()
}

// hllTestCycles is how many times PFSELFTEST fills the registers with random values.
const hllTestCycles = 1000

// runPFSelfTest is Redis's PFSELFTEST: it checks that the registers keep what is stored in
// them, and that sparse and dense HyperLogLogs agree and stay within a few standard errors of
// the truth up to ten million elements. It touches no data.
func runPFSelfTest(c *Ctx) {
	if msg := hllSelfTest(c.hllSparseMax()); msg != "" {
		c.Err(msg)
		return
	}
	c.W.OK()
}

func hllSelfTest(sparseMax int64) string {
	dense := make([]byte, hllDenseSize)
	copy(dense, "HYLL")
	regs := dense[hllHdrSize:]
	var want [hllRegisters]uint8
	for j := 0; j < hllTestCycles; j++ {
		for i := range want {
			want[i] = uint8(rand.Uint32() & hllRegisterMax)
			denseSet(regs, i, want[i])
		}
		for i := range want {
			if got := denseGet(regs, i); got != want[i] {
				return "TESTFAILED Register " + strconv.Itoa(i) + " should be " + strconv.Itoa(int(want[i])) +
					" but is " + strconv.Itoa(int(got))
			}
		}
	}
	clear(regs)
	sparse := newHLL()
	relerr := 1.04 / math.Sqrt(hllRegisters)
	checkpoint := int64(1)
	seed := rand.Uint64()
	var ele [8]byte
	for j := int64(1); j <= 10000000; j++ {
		binary.LittleEndian.PutUint64(ele[:], uint64(j)^seed)
		index, count := hllPatLen(ele[:])
		denseSetMax(regs, index, count)
		sparse, _, _ = hllSet(sparse, index, count, sparseMax)
		if j != checkpoint {
			continue
		}
		if j < sparseMax/2 && sparse[4] != hllSparse {
			return "TESTFAILED sparse encoding not used"
		}
		dc, _ := hllCount(dense)
		if sc, _ := hllCount(sparse); dc != sc {
			return "TESTFAILED dense/sparse disagree"
		}
		abserr := checkpoint - int64(dc)
		maxerr := int64(math.Ceil(relerr * 6 * float64(checkpoint)))
		if j == 10 {
			maxerr = 1 // collisions make cardinality 10 often err more, as Redis allows for
		}
		if abserr < 0 {
			abserr = -abserr
		}
		if abserr > maxerr {
			return "TESTFAILED Too big error. card:" + strconv.FormatInt(checkpoint, 10) + " abserr:" + strconv.FormatInt(abserr, 10)
		}
		checkpoint *= 10
	}
	return ""
}
