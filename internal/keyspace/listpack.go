package keyspace

// Redis 7.2+ keeps a small list as one listpack and converts it to a quicklist when the listpack
// would pass list-max-listpack-size (default -2: 8 KB); it converts back only when a shrinking
// list fits in half that, so a list on the boundary does not flip at every push and pop. OBJECT
// ENCODING exposes which, so a list here carries the size its listpack would have (Meta.Extra)
// and applies the same rules. This file is that size model; nothing is stored as a listpack.

const (
	// listpackLimit is the listpack size (bytes) above which Redis uses a quicklist.
	listpackLimit = 8192
	// listpackShrinkLimit: a quicklist that shrinks to a single node of at most this many bytes
	// becomes a listpack again.
	listpackShrinkLimit = listpackLimit / 2
	// listpackEmpty is the size of an empty listpack: a 6-byte header and the end byte.
	listpackEmpty = 7
	// listpackShrinkMaxCount is the most elements a listpack under listpackShrinkLimit can hold
	// (every entry takes at least 2 bytes). A longer list can never convert back, so its size
	// need not be known.
	listpackShrinkMaxCount = (listpackShrinkLimit - listpackEmpty) / 2
	// listBytesUnknown marks a quicklist whose listpack size is not tracked (after LTRIM dropped
	// elements with a range deletion, without reading them).
	listBytesUnknown = ^uint64(0)
)

// listpackEntrySize is the number of bytes value takes in a listpack: an encoding header with
// the data (integers in canonical decimal are stored in 1 to 9 bytes), then a back-length of 1
// to 5 bytes, as listpack.c lays it out.
func listpackEntrySize(value []byte) uint64 {
	var n uint64
	if v, ok := listpackInt(value); ok {
		switch {
		case v >= 0 && v <= 127:
			n = 1
		case v >= -4096 && v <= 4095:
			n = 2
		case v >= -32768 && v <= 32767:
			n = 3
		case v >= -8388608 && v <= 8388607:
			n = 4
		case v >= -2147483648 && v <= 2147483647:
			n = 5
		default:
			n = 9
		}
	} else {
		l := uint64(len(value))
		switch {
		case l < 64:
			n = 1 + l
		case l < 4096:
			n = 2 + l
		default:
			n = 5 + l
		}
	}
	switch {
	case n <= 127:
		return n + 1
	case n < 16383:
		return n + 2
	case n < 2097151:
		return n + 3
	case n < 268435455:
		return n + 4
	}
	return n + 5
}

// listpackInt parses value as lpStringToInt64 does: canonical decimal only (no '+', no leading
// zeros, no spaces), within int64.
func listpackInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || b[0] < '1' || b[0] > '9' {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (1<<64-1-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true
	}
	if v > 1<<63-1 {
		return 0, false
	}
	return int64(v), true
}

// grow applies Redis's check before adding elements of addRaw bytes (their plain lengths, as
// listTypeTryConversionAppend counts them): a listpack that would pass the limit becomes a
// quicklist.
func (s *listState) grow(addRaw uint64) {
	if !s.quick && s.lpBytes+addRaw > listpackLimit {
		s.quick = true
	}
}

// added and removed keep the listpack size as elements come and go.
func (s *listState) added(value []byte) {
	if s.lpBytes != listBytesUnknown {
		s.lpBytes += listpackEntrySize(value)
	}
}

func (s *listState) removed(value []byte) {
	if s.lpBytes != listBytesUnknown {
		s.lpBytes -= listpackEntrySize(value)
	}
}
