package search

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kljensen/snowball/english"
)

// Text fields are split into terms as RediSearch does: on whitespace and punctuation (a
// backslash keeps the next character in the term), lower-cased. Each term is indexed as it is,
// and its English stem too, marked with a leading '+', so a query term matches every word with
// its stem and a prefix query matches words as written.

// isSeparator reports whether r separates terms.
func isSeparator(r rune) bool {
	if unicode.IsSpace(r) {
		return true
	}
	return strings.ContainsRune(",.<>{}[]\"':;!@#$%^&*()-+=~/|?`", r)
}

// tokenize splits s into lower-cased terms.
func tokenize(s string) []string {
	var out []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if r == '\\' && i < len(s) {
			r, n = utf8.DecodeRuneInString(s[i:])
			i += n
			cur.WriteRune(unicode.ToLower(r))
			continue
		}
		if isSeparator(r) {
			flush()
			continue
		}
		cur.WriteRune(unicode.ToLower(r))
	}
	flush()
	return out
}

// stemOf is the stem record of a term ("" when the stem is the term itself).
func stemOf(term string) string {
	s := english.Stem(term, false)
	if s == term || s == "" {
		return ""
	}
	return "+" + s
}

// textTerms is what a text value indexes: each term with its positions (stopwords dropped, the
// positions counting them).
func (ix *Index) textTerms(f *Field, value string) map[string][]uint32 {
	out := map[string][]uint32{}
	for pos, t := range tokenize(value) {
		if ix.stop[t] {
			continue
		}
		out[t] = append(out[t], uint32(pos))
		if !f.NoStem {
			if s := stemOf(t); s != "" {
				out[s] = append(out[s], uint32(pos))
			}
		}
	}
	return out
}

// tagValues splits a tag field's value by its separator, trimmed, lower-cased unless the field
// is case-sensitive; empty tags are dropped.
func tagValues(f *Field, value string) []string {
	sep := f.Separator
	if sep == "" {
		sep = ","
	}
	var out []string
	seen := map[string]bool{}
	for _, t := range strings.Split(value, sep) {
		t = strings.TrimSpace(t)
		if !f.CaseSensitive {
			t = strings.ToLower(t)
		}
		if t != "" && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}
