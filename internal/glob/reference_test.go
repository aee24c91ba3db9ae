package glob

// Two exponential-time references the matcher is checked against: redisMatch, a line-by-line
// rendering of Redis 7.0's stringmatchlen (util.c), and previousMatch, cairn's matcher before
// it was made polynomial. They differ from each other only where previousMatch departed from
// Redis: an empty string (Redis matches it only with the empty pattern) and ranges with bytes
// above 0x7f (Redis compares them as signed chars).

// redisMatch is stringmatchlen: pattern and string are walked together while both last.
func redisMatch(p, s []byte, nocase bool, nesting int) bool {
	if nesting > 1000 {
		return false
	}
	at := func(i int) byte { // C reads the NUL terminator past the end
		if i < len(p) {
			return p[i]
		}
		return 0
	}
	pi, si := 0, 0
	for pi < len(p) && si < len(s) {
		switch p[pi] {
		case '*':
			for pi < len(p) && at(pi+1) == '*' {
				pi++
			}
			if pi == len(p)-1 {
				return true
			}
			for ; si < len(s); si++ {
				if redisMatch(p[pi+1:], s[si:], nocase, nesting+1) {
					return true
				}
			}
			return false
		case '?':
			si++
		case '[':
			pi++
			not := at(pi) == '^'
			if not {
				pi++
			}
			m := false
			for {
				if at(pi) == '\\' && len(p)-pi >= 2 {
					pi++
					if p[pi] == s[si] {
						m = true
					}
				} else if at(pi) == ']' {
					break
				} else if pi == len(p) {
					pi--
					break
				} else if len(p)-pi >= 3 && p[pi+1] == '-' {
					start, end, c := int(int8(p[pi])), int(int8(p[pi+2])), int(int8(s[si]))
					if start > end {
						start, end = end, start
					}
					if nocase {
						start, end, c = lowerInt(start), lowerInt(end), lowerInt(c)
					}
					pi += 2
					if c >= start && c <= end {
						m = true
					}
				} else if eq(p[pi], s[si], nocase) {
					m = true
				}
				pi++
			}
			if not {
				m = !m
			}
			if !m {
				return false
			}
			si++
		case '\\':
			if len(p)-pi >= 2 {
				pi++
			}
			fallthrough
		default:
			if !eq(p[pi], s[si], nocase) {
				return false
			}
			si++
		}
		pi++
		if si == len(s) {
			for at(pi) == '*' {
				pi++
			}
			break
		}
	}
	return pi == len(p) && si == len(s)
}

// previousMatch is the matcher cairn had before this one, unchanged.
func previousMatch(p, s []byte, nocase bool, nesting int) bool {
	if nesting > 1000 {
		return false
	}
	for len(p) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 1 && p[1] == '*' {
				p = p[1:]
			}
			if len(p) == 1 {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if previousMatch(p[1:], s[i:], nocase, nesting+1) {
					return true
				}
			}
			return false
		case '?':
			if len(s) == 0 {
				return false
			}
			s = s[1:]
		case '[':
			if len(s) == 0 {
				return false
			}
			p = p[1:]
			not := len(p) > 0 && p[0] == '^'
			if not {
				p = p[1:]
			}
			matched := false
			for {
				if len(p) == 0 {
					break
				}
				if p[0] == '\\' && len(p) >= 2 {
					p = p[1:]
					if p[0] == s[0] {
						matched = true
					}
				} else if p[0] == ']' {
					break
				} else if len(p) >= 3 && p[1] == '-' {
					start, end := p[0], p[2]
					if start > end {
						start, end = end, start
					}
					c := s[0]
					if nocase {
						start, end, c = lower(start), lower(end), lower(c)
					}
					p = p[2:]
					if c >= start && c <= end {
						matched = true
					}
				} else if eq(p[0], s[0], nocase) {
					matched = true
				}
				p = p[1:]
			}
			if not {
				matched = !matched
			}
			if !matched {
				return false
			}
			s = s[1:]
			if len(p) == 0 {
				return len(s) == 0
			}
		case '\\':
			if len(p) >= 2 {
				p = p[1:]
			}
			fallthrough
		default:
			if len(s) == 0 || !eq(p[0], s[0], nocase) {
				return false
			}
			s = s[1:]
		}
		p = p[1:]
	}
	return len(s) == 0
}
