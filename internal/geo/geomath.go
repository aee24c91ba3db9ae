package geo

import "math"

// Correctly rounded sine, cosine and arcsine for geo distances. Redis computes distances with
// the C library's sin, cos and asin, which on glibc return the double nearest the true value;
// Go's math package is off by one unit in the last place for a fifth to a third of arguments.
// That would show in STOREDIST scores (stored to the last bit) and could move a point on the
// very edge of a radius in or out. These evaluate in double-double arithmetic (about 106 bits)
// and round once, which gives glibc's answers.

// dd is an unevaluated sum hi+lo with |lo| <= ulp(hi)/2.
type dd struct{ hi, lo float64 }

func twoSum(a, b float64) dd {
	s := a + b
	bb := s - a
	return dd{s, (a - (s - bb)) + (b - bb)}
}

func quickTwoSum(a, b float64) dd {
	s := a + b
	return dd{s, b - (s - a)}
}

func twoProd(a, b float64) dd {
	p := a * b
	return dd{p, math.FMA(a, b, -p)}
}

func (a dd) add(b dd) dd {
	s := twoSum(a.hi, b.hi)
	t := twoSum(a.lo, b.lo)
	s.lo += t.hi
	s = quickTwoSum(s.hi, s.lo)
	s.lo += t.lo
	return quickTwoSum(s.hi, s.lo)
}

func (a dd) mul(b dd) dd {
	p := twoProd(a.hi, b.hi)
	p.lo += a.hi*b.lo + a.lo*b.hi
	return quickTwoSum(p.hi, p.lo)
}

func (a dd) divFloat(b float64) dd {
	q := a.hi / b
	p := twoProd(q, b)
	r := (a.hi - p.hi - p.lo + a.lo) / b
	return quickTwoSum(q, r)
}

func (a dd) neg() dd { return dd{-a.hi, -a.lo} }

// ddTaylorEps stops a series once its terms no longer change the double-double sum.
const ddTaylorEps = 1e-34

// ddSin is sin(x) for |x| <= pi by its Taylor series.
func ddSin(x float64) dd {
	sum := dd{x, 0}
	term := dd{x, 0}
	x2 := twoProd(x, x)
	for k := 1; k < 40; k++ {
		term = term.mul(x2).divFloat(float64((2 * k) * (2*k + 1))).neg()
		sum = sum.add(term)
		if math.Abs(term.hi) <= ddTaylorEps*math.Abs(sum.hi) {
			break
		}
	}
	return sum
}

// ddCos is cos(x) for |x| <= pi by its Taylor series.
func ddCos(x float64) dd {
	sum := dd{1, 0}
	term := dd{1, 0}
	x2 := twoProd(x, x)
	for k := 1; k < 40; k++ {
		term = term.mul(x2).divFloat(float64((2*k - 1) * (2 * k))).neg()
		sum = sum.add(term)
		if math.Abs(term.hi) <= ddTaylorEps*math.Abs(sum.hi) {
			break
		}
	}
	return sum
}

// The arguments Redis's geo code passes are within [-pi, pi] (half a longitude difference,
// latitudes); anything else falls back to the math package.

func crSin(x float64) float64 {
	if math.Abs(x) > math.Pi {
		return math.Sin(x)
	}
	s := ddSin(x)
	return s.hi + s.lo
}

func crCos(x float64) float64 {
	if math.Abs(x) > math.Pi {
		return math.Cos(x)
	}
	c := ddCos(x)
	return c.hi + c.lo
}

// crAsin refines Go's arcsine by one Newton step on sin in double-double: z - (sin z - y)/cos z.
func crAsin(y float64) float64 {
	z := math.Asin(y)
	if math.IsNaN(z) || y == 0 {
		return z
	}
	f := ddSin(z).add(dd{-y, 0})
	c := ddCos(z)
	if c.hi == 0 {
		return z
	}
	return z - (f.hi+f.lo)/(c.hi+c.lo)
}
