package command

import (
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// refBitfield is BITFIELD's arithmetic done in unbounded integers: the exact result, then
// wrapped, saturated or refused when it leaves the field's range. An unsigned SET takes its
// argument as the 64-bit pattern Redis casts it to, so -1 is a huge value that overflows upward.
func refBitfield(op bitfieldOp, old int64) (next int64, ok bool) {
	exact := new(big.Int)
	switch {
	case op.incr:
		exact.Add(big.NewInt(old), big.NewInt(op.value))
	case op.signed:
		exact.SetInt64(op.value)
	default:
		exact.SetUint64(uint64(op.value))
	}
	lo, hi := new(big.Int), new(big.Int).Lsh(big.NewInt(1), uint(op.width))
	hi.Sub(hi, big.NewInt(1))
	if op.signed {
		hi.Rsh(hi, 1)
		lo.Neg(hi).Sub(lo, big.NewInt(1))
	}
	if exact.Cmp(lo) >= 0 && exact.Cmp(hi) <= 0 {
		return exact.Int64(), true
	}
	// Redis quirk: a signed SET of a value so negative that max-value overflows an int64 is
	// taken as an overflow upward (checkSignedBitfieldOverflow's maxincr wraps), so SAT gives max.
	if op.signed && !op.incr && op.value < hi.Int64()-math.MaxInt64 && op.overflow == overflowSat {
		return hi.Int64(), true
	}
	switch op.overflow {
	case overflowFail:
		return 0, false
	case overflowSat:
		if exact.Cmp(hi) > 0 {
			return hi.Int64(), true
		}
		return lo.Int64(), true
	}
	mod := new(big.Int).Lsh(big.NewInt(1), uint(op.width))
	w := new(big.Int).Mod(exact, mod) // in [0, 2^width)
	if op.signed && w.Cmp(hi) > 0 {
		w.Sub(w, mod)
	}
	if !w.IsInt64() {
		return int64(w.Uint64()), true
	}
	return w.Int64(), true
}

func randomInt64(r *rand.Rand) int64 {
	switch r.IntN(4) {
	case 0:
		return r.Int64N(21) - 10
	case 1:
		return []int64{math.MaxInt64, math.MinInt64, math.MaxInt64 - 1, math.MinInt64 + 1, 1 << 62, -1 << 62}[r.IntN(6)]
	case 2:
		return int64(r.Uint64()) >> r.IntN(64)
	}
	return int64(r.Uint64())
}

func TestBitfieldOverflow(t *testing.T) {
	r := rand.New(rand.NewPCG(testSeed(t), 1))
	buf := make([]byte, 16)
	for i := 0; i < 200_000; i++ {
		op := bitfieldOp{write: true, incr: r.IntN(2) == 0, signed: r.IntN(2) == 0, overflow: r.IntN(3), offset: int64(r.IntN(40))}
		if op.signed {
			op.width = 1 + int64(r.IntN(64))
		} else {
			op.width = 1 + int64(r.IntN(63))
		}
		for j := range buf {
			buf[j] = byte(r.Uint32())
		}
		op.value = randomInt64(r)
		old := getBitfield(buf, op)
		gotOld, got, ok := applyBitfield(buf, op)
		want, wantOK := refBitfield(op, old)
		if gotOld != old || ok != wantOK || (ok && got != want) {
			t.Fatalf("%+v on %d: got (%d, %d, %v), want (%d, %d, %v)", op, old, gotOld, got, ok, old, want, wantOK)
		}
		if ok {
			// What is stored reads back as the result.
			setBitfield(buf, op.offset, op.width, uint64(got))
			if back := getBitfield(buf, op); back != got {
				t.Fatalf("%+v: stored %d, read back %d", op, got, back)
			}
		}
	}
}

// refBitOp computes one bit of BITOP from the definitions of the operations.
func refBitOp(op bitOp, bits []byte) byte {
	ones := 0
	for _, b := range bits {
		ones += int(b)
	}
	others := 0
	for _, b := range bits[1:] {
		others += int(b)
	}
	b2i := func(ok bool) byte {
		if ok {
			return 1
		}
		return 0
	}
	switch op {
	case bitAnd:
		return b2i(ones == len(bits))
	case bitOr:
		return b2i(ones > 0)
	case bitXor:
		return byte(ones % 2)
	case bitNot:
		return 1 - bits[0]
	case bitDiff:
		return b2i(bits[0] == 1 && others == 0)
	case bitDiff1:
		return b2i(bits[0] == 0 && others > 0)
	case bitAndOr:
		return b2i(bits[0] == 1 && others > 0)
	}
	return b2i(ones == 1) // ONE
}

func TestBitOpReference(t *testing.T) {
	r := rand.New(rand.NewPCG(testSeed(t), 2))
	for i := 0; i < 2000; i++ {
		op := bitOp(r.IntN(len(bitOpNames)))
		n := 1 + r.IntN(5)
		if op == bitNot {
			n = 1
		}
		srcs := make([][]byte, n)
		maxLen := 0
		for j := range srcs {
			if r.IntN(5) == 0 {
				continue // a missing key
			}
			srcs[j] = make([]byte, r.IntN(70))
			for k := range srcs[j] {
				srcs[j][k] = byte(r.Uint32())
			}
			maxLen = max(maxLen, len(srcs[j]))
		}
		if maxLen == 0 {
			continue
		}
		got := bitOpApply(op, srcs, maxLen)
		for pos := int64(0); pos < int64(maxLen)*8; pos++ {
			bits := make([]byte, n)
			for j, s := range srcs {
				bits[j] = bitAt(s, pos)
			}
			if want := refBitOp(op, bits); bitAt(got, pos) != want {
				t.Fatalf("BITOP %s over %q: bit %d = %d, want %d", bitOpNames[op], srcs, pos, bitAt(got, pos), want)
			}
		}
	}
}

// refRange is the set of bit positions BITCOUNT and BITPOS look at, from their documentation:
// indexes in bytes or bits, negative ones from the end, clamped to the string. For BITCOUNT
// (count), a range with both ends negative and start after end is empty before clamping.
func refRange(n int, start, end int64, isBit, count bool) (lo, hi int64) {
	total := int64(n)
	if isBit {
		total *= 8
	}
	if count && start < 0 && end < 0 && start > end {
		return 0, -1
	}
	if start < 0 {
		start += total
	}
	if end < 0 {
		end += total
	}
	start, end = max(start, 0), min(max(end, 0), total-1)
	if isBit {
		return start, end
	}
	return start * 8, end*8 + 7
}

// TestBitCountPosModel compares BITCOUNT and BITPOS with a model over random strings and ranges.
func TestBitCountPosModel(t *testing.T) {
	r := rand.New(rand.NewPCG(testSeed(t), 3))
	h := newHarness(t)
	for i := 0; i < 3000; i++ {
		s := make([]byte, r.IntN(12))
		for k := range s {
			switch r.IntN(3) {
			case 0:
				s[k] = 0
			case 1:
				s[k] = 0xff
			default:
				s[k] = byte(r.Uint32())
			}
		}
		h.do("set", "s", string(s))
		start, end := r.Int64N(201)-100, r.Int64N(201)-100
		isBit := r.IntN(2) == 0
		unit := "byte"
		if isBit {
			unit = "bit"
		}
		lo, hi := refRange(len(s), start, end, isBit, true)
		var count int64
		for p := lo; p <= hi; p++ {
			count += int64(bitAt(s, p))
		}
		args := []string{"bitcount", "s", itoa(start), itoa(end), unit}
		h.check(":"+itoa(count)+"\r\n", args...)

		bit := byte(r.IntN(2))
		form := r.IntN(3) // 0: no range, 1: start only, 2: start and end
		args = []string{"bitpos", "s", strconv.Itoa(int(bit))}
		switch form {
		case 0:
			lo, hi = 0, int64(len(s))*8-1
		case 1:
			args = append(args, itoa(start))
			lo, hi = refRange(len(s), start, -1, false, false)
		case 2:
			args = append(args, itoa(start), itoa(end), unit)
			lo, hi = refRange(len(s), start, end, isBit, false)
		}
		want := int64(-1)
		for p := lo; p <= hi; p++ {
			if bitAt(s, p) == bit {
				want = p
				break
			}
		}
		if want == -1 && bit == 0 && form < 2 && lo <= hi {
			want = hi + 1 // no end given: the string counts as padded with zeros
		}
		if got := h.do(args...); got != ":"+itoa(want)+"\r\n" {
			t.Fatalf("%s over %q = %q, want %d", strings.Join(args, " "), s, got, want)
		}
	}
}

func TestBitopArgsListNewOperations(t *testing.T) {
	var names []string
	for _, a := range Lookup([]byte("bitop")).Args[0].Args {
		names = append(names, a.Token)
	}
	if got := strings.Join(names, " "); got != "AND OR XOR NOT DIFF DIFF1 ANDOR ONE" {
		t.Fatalf("BITOP operations = %q", got)
	}
}
