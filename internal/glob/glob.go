// Package glob matches Redis glob-style patterns (KEYS, SCAN MATCH, PSUBSCRIBE, CONFIG GET):
// '*' any run, '?' any byte, '[abc]', '[^abc]', '[a-z]' classes, and '\' to quote the next byte.
//
// The matcher gives the results of Redis's stringmatchlen, quirks included, in time
// proportional to len(pattern)*len(s) at worst: a pattern is never an attack on the loop that
// runs it (CVE-2022-36021 was a pattern that took exponential time).
package glob

// Match reports whether s matches pattern, as Redis's stringmatchlen does.
func Match(pattern, s []byte, nocase bool) bool {
	ok, _ := match(pattern, s, nocase)
	return ok
}

// MatchString is Match for strings.
func MatchString(pattern, s string, nocase bool) bool {
	ok, _ := match([]byte(pattern), []byte(s), nocase)
	return ok
}

// match is the matcher; steps counts the iterations of its loop, which tests bound.
//
// Between two stars every pattern element matches exactly one byte, so when the elements
// after the last star seen fail, the only choice left is to let that star take one more byte
// and try again from there; an earlier star need never take more, because the last star can
// already start its match anywhere an earlier one could have pushed it. Each retry moves the
// star's start right, and the starts never move back, so there are at most len(s) retries of
// at most len(pattern) steps each.
//
// Redis's matcher stops as soon as the string is used up, so an empty string matches only the
// empty pattern (not even "*"); its callers treat a lone "*" as "everything" themselves. Redis
// also gave up beyond 1000 nested stars; this matcher has no such limit and answers correctly.
func match(p, s []byte, nocase bool) (matched bool, steps int) {
	if len(s) == 0 {
		return len(p) == 0, 0
	}
	pi, si := 0, 0
	star, starS := -1, 0 // the pattern index after the last star, and where its match ends in s
	for {
		steps++
		if si == len(s) {
			for pi < len(p) && p[pi] == '*' {
				pi++
			}
			return pi == len(p), steps
		}
		if pi < len(p) && p[pi] == '*' {
			for pi < len(p) && p[pi] == '*' {
				pi++
			}
			if pi == len(p) {
				return true, steps
			}
			star, starS = pi, si
			continue
		}
		if pi < len(p) {
			if ok, next := one(p, pi, s[si], nocase); ok {
				pi, si = next, si+1
				continue
			}
		}
		if star < 0 || starS+1 >= len(s) {
			return false, steps
		}
		starS++
		pi, si = star, starS
	}
}

// one matches the pattern element at p[i], which is not a star, against the byte c, and
// returns the index of the next element.
func one(p []byte, i int, c byte, nocase bool) (bool, int) {
	switch p[i] {
	case '?':
		return true, i + 1
	case '[':
		return class(p, i+1, c, nocase)
	case '\\':
		if i+1 < len(p) {
			i++
		}
	}
	return eq(p[i], c, nocase), i + 1
}

// class matches c against the class whose body starts at p[i], just after its '['. As in
// Redis: a class the pattern ends inside ends with the pattern; '\' quotes the next byte
// (compared without folding case); "x-y" is a range even when y is the ']' that would have
// closed the class; a range's bounds are swapped when reversed, and compared as C's signed
// chars of x86-64 compare them (so "[a-\xff]" is the range \xff..a and holds "A" but not "b").
func class(p []byte, i int, c byte, nocase bool) (bool, int) {
	not := i < len(p) && p[i] == '^'
	if not {
		i++
	}
	matched := false
	for {
		if q := p[i:]; len(q) >= 2 && q[0] == '\\' {
			i++
			if q[1] == c {
				matched = true
			}
		} else if len(q) > 0 && q[0] == ']' {
			break
		} else if len(q) == 0 {
			i-- // the class ends with the pattern: the increment below lands on len(p)
			break
		} else if len(q) >= 3 && q[1] == '-' {
			start, end, b := int(int8(q[0])), int(int8(q[2])), int(int8(c))
			if start > end {
				start, end = end, start
			}
			if nocase {
				start, end, b = lowerInt(start), lowerInt(end), lowerInt(b)
			}
			i += 2
			if b >= start && b <= end {
				matched = true
			}
		} else if eq(q[0], c, nocase) {
			matched = true
		}
		i++
	}
	return matched != not, i + 1
}

func eq(a, b byte, nocase bool) bool {
	if nocase {
		return lower(a) == lower(b)
	}
	return a == b
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 32
	}
	return c
}

func lowerInt(c int) int {
	if c >= 'A' && c <= 'Z' {
		return c + 32
	}
	return c
}

// LiteralPrefix returns the bytes every match of pattern must start with, so a scan can seek to
// them instead of visiting every key.
func LiteralPrefix(pattern []byte) []byte {
	var out []byte
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; c {
		case '*', '?', '[':
			return out
		case '\\':
			if i+1 < len(pattern) {
				i++
				out = append(out, pattern[i])
				continue
			}
			return out
		default:
			out = append(out, c)
		}
	}
	return out
}

// IsLiteral reports whether pattern matches exactly one string (it has no wildcards).
func IsLiteral(pattern []byte) bool {
	for i := 0; i < len(pattern); i++ {
		switch pattern[i] {
		case '*', '?', '[':
			return false
		case '\\':
			i++
		}
	}
	return true
}
