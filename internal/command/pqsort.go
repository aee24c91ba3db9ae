package command

// pqsort sorts enough of p that positions lr..rr (inclusive) hold what a full sort would put
// there, as Redis's pqsort (NetBSD's qsort, Bentley and McIlroy's, with partitions outside the
// range left unsorted). GEOSEARCH with COUNT uses it, so matches at equal distances come out in
// Redis's order, which a different sort would not keep.
func pqsort[T any](p []T, cmp func(a, b *T) int, lr, rr int) {
	pqsortRange(p, 0, len(p), cmp, lr, rr)
}

func pqsortRange[T any](p []T, a, n int, cmp func(a, b *T) int, lr, rr int) {
	swap := func(i, j int) { p[i], p[j] = p[j], p[i] }
	vecswap := func(i, j, k int) {
		for ; k > 0; k-- {
			swap(i, j)
			i++
			j++
		}
	}
	med3 := func(x, y, z int) int {
		if cmp(&p[x], &p[y]) < 0 {
			if cmp(&p[y], &p[z]) < 0 {
				return y
			}
			if cmp(&p[x], &p[z]) < 0 {
				return z
			}
			return x
		}
		if cmp(&p[y], &p[z]) > 0 {
			return y
		}
		if cmp(&p[x], &p[z]) < 0 {
			return x
		}
		return z
	}
	// overlaps reports whether elements [s, s+k) meet the range to sort.
	overlaps := func(s, k int) bool { return !(rr < s || lr > s+k-1) }
	for {
		if n < 7 {
			for m := a + 1; m < a+n; m++ {
				for l := m; l > a && cmp(&p[l-1], &p[l]) > 0; l-- {
					swap(l, l-1)
				}
			}
			return
		}
		m := a + n/2
		if n > 7 {
			l, r := a, a+n-1
			if n > 40 {
				d := n / 8
				l = med3(l, l+d, l+2*d)
				m = med3(m-d, m, m+d)
				r = med3(r-2*d, r-d, r)
			}
			m = med3(l, m, r)
		}
		swap(a, m)
		pa, pb := a+1, a+1
		pc, pd := a+n-1, a+n-1
		for {
			for pb <= pc {
				c := cmp(&p[pb], &p[a])
				if c > 0 {
					break
				}
				if c == 0 {
					swap(pa, pb)
					pa++
				}
				pb++
			}
			for pb <= pc {
				c := cmp(&p[pc], &p[a])
				if c < 0 {
					break
				}
				if c == 0 {
					swap(pc, pd)
					pd--
				}
				pc--
			}
			if pb > pc {
				break
			}
			swap(pb, pc)
			pb++
			pc--
		}
		pn := a + n
		r := min(pa-a, pb-pa)
		vecswap(a, pb-r, r)
		r = min(pd-pc, pn-pd-1)
		vecswap(pb, pn-r, r)
		if r = pb - pa; r > 1 && overlaps(a, r) {
			pqsortRange(p, a, r, cmp, lr, rr)
		}
		r = pd - pc
		if r <= 1 {
			return
		}
		a, n = pn-r, r
		if !overlaps(a, n) {
			return
		}
	}
}
