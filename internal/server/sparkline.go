package server

import (
	"math"
	"strings"
)

// An ASCII sparkline, as Redis's sparkline.c draws LATENCY GRAPH: each sample a column of rows
// characters picked from "_-`" (or "_o#" filled, with '|' below the top), the labels written
// vertically underneath, a line longer than the width wrapped into blocks.

const (
	sparkChars     = "_-`"
	sparkFillChars = "_o#"
)

type sparkSample struct {
	value float64
	label string
}

type sparkSequence struct {
	samples  []sparkSample
	min, max float64
	labels   int
}

func (q *sparkSequence) add(v float64, label string) {
	if len(q.samples) == 0 {
		q.min, q.max = v, v
	} else if v < q.min {
		q.min = v
	} else if v > q.max {
		q.max = v
	}
	q.samples = append(q.samples, sparkSample{v, label})
	if label != "" {
		q.labels++
	}
}

func (q *sparkSequence) render(b *strings.Builder, columns, rows int, fill bool) {
	for j := 0; j < len(q.samples); j += columns {
		if j != 0 {
			b.WriteByte('\n')
		}
		q.renderRange(b, rows, j, min(columns, len(q.samples)-j), fill)
	}
}

func (q *sparkSequence) renderRange(b *strings.Builder, rows, offset, n int, fill bool) {
	const labelMarginTop = 1
	relmax := q.max - q.min
	if relmax == 0 {
		relmax = 1
	}
	steps := len(sparkChars) * rows
	chars := make([]byte, n)
	for row, loop := 0, true; loop; {
		loop = false
		for j := range chars {
			chars[j] = ' '
		}
		for j := 0; j < n; j++ {
			s := &q.samples[j+offset]
			// C: step = (int)(relval*steps)/relmax, the division in double, truncated again.
			step := int(float64(int(math.Trunc((s.value-q.min)*float64(steps)))) / relmax)
			step = max(0, min(step, steps-1))
			if row < rows {
				loop = true
				idx := step - (rows-row-1)*len(sparkChars)
				switch {
				case idx >= 0 && idx < len(sparkChars) && fill:
					chars[j] = sparkFillChars[idx]
				case idx >= 0 && idx < len(sparkChars):
					chars[j] = sparkChars[idx]
				case fill && idx >= len(sparkChars):
					chars[j] = '|'
				}
				continue
			}
			if q.labels > 0 && row-rows < labelMarginTop {
				loop = true
				break
			}
			if c := row - rows - labelMarginTop; len(s.label) > c {
				loop = true
				chars[j] = s.label[c]
			}
		}
		if loop {
			row++
			b.Write(chars)
			b.WriteByte('\n')
		}
	}
}
