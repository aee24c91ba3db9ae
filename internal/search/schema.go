package search

import (
	"encoding/json"
	"strconv"
	"strings"
)

// FieldType is a schema field's type.
type FieldType string

// The field types cairn indexes.
const (
	TypeText    FieldType = "TEXT"
	TypeTag     FieldType = "TAG"
	TypeNumeric FieldType = "NUMERIC"
	TypeGeo     FieldType = "GEO"
)

// Field is one attribute of an index's schema.
type Field struct {
	Name          string    `json:"name"`  // the hash field
	Alias         string    `json:"alias"` // the attribute name queries use (AS), or Name
	Type          FieldType `json:"type"`
	Weight        float64   `json:"weight,omitempty"`
	NoStem        bool      `json:"nostem,omitempty"`
	Sortable      bool      `json:"sortable,omitempty"`
	NoIndex       bool      `json:"noindex,omitempty"`
	CaseSensitive bool      `json:"casesensitive,omitempty"`
	Separator     string    `json:"separator,omitempty"`
}

// Index is an index definition as stored.
type Index struct {
	Name      string   `json:"name"`
	ID        uint32   `json:"id"`
	DB        byte     `json:"db"` // physical database
	Prefixes  []string `json:"prefixes"`
	Language  string   `json:"language"`
	Stopwords []string `json:"stopwords"` // nil: the default list
	Fields    []Field  `json:"fields"`
	// Building is set while the keys that existed at creation are being indexed: BuildPrefix is
	// the prefix being walked, BuildCursor the key to resume at (nil: from its start).
	Building    bool   `json:"building,omitempty"`
	BuildPrefix int    `json:"build_prefix,omitempty"`
	BuildCursor []byte `json:"build_cursor,omitempty"`
	// BuildScanned counts keys the build has visited, for percent_indexed.
	BuildScanned int64 `json:"build_scanned,omitempty"`
	BuildTotal   int64 `json:"build_total,omitempty"`

	stop map[string]bool
}

func (ix *Index) encode() []byte {
	b, _ := json.Marshal(ix)
	return b
}

func decodeIndex(b []byte) (*Index, error) {
	ix := &Index{}
	if err := json.Unmarshal(b, ix); err != nil {
		return nil, err
	}
	ix.prepare()
	return ix, nil
}

func (ix *Index) prepare() {
	words := ix.Stopwords
	if words == nil {
		words = defaultStopwords
	}
	ix.stop = make(map[string]bool, len(words))
	for _, w := range words {
		ix.stop[strings.ToLower(w)] = true
	}
}

// Matches reports whether key falls under the index's prefixes.
func (ix *Index) Matches(key []byte) bool {
	for _, p := range ix.Prefixes {
		if len(key) >= len(p) && string(key[:len(p)]) == p {
			return true
		}
	}
	return false
}

// FieldByAlias finds a schema attribute by its query name; -1 if none.
func (ix *Index) FieldByAlias(name string) int {
	for i := range ix.Fields {
		if ix.Fields[i].Alias == name {
			return i
		}
	}
	return -1
}

// defaultStopwords is RediSearch's default stopword list.
var defaultStopwords = []string{"a", "is", "the", "an", "and", "are", "as", "at", "be", "but", "by", "for",
	"if", "in", "into", "it", "no", "not", "of", "on", "or", "such", "that", "their", "then", "there",
	"these", "they", "this", "to", "was", "will", "with"}

// ParseCreate reads FT.CREATE's arguments after the index name. It returns a Redis error
// message when they are not valid or ask for what cairn does not support.
func ParseCreate(name string, args []string) (*Index, string) {
	ix := &Index{Name: name, Language: "english", Prefixes: nil}
	i := 0
	next := func() (string, bool) {
		if i >= len(args) {
			return "", false
		}
		i++
		return args[i-1], true
	}
	for {
		a, ok := next()
		if !ok {
			return nil, "No schema found"
		}
		switch strings.ToUpper(a) {
		case "ON":
			t, ok := next()
			if !ok {
				return nil, "ON: Expected a value"
			}
			switch strings.ToUpper(t) {
			case "HASH":
			case "JSON":
				return nil, "ERR ON JSON is not supported by cairn: only hashes are indexed"
			default:
				return nil, "Invalid rule type: " + t
			}
		case "PREFIX":
			n, ok := next()
			cnt, err := strconv.Atoi(n)
			if !ok || err != nil || cnt < 0 {
				return nil, "Bad arguments for PREFIX: Value is not a valid integer"
			}
			if i+cnt > len(args) {
				return nil, "Bad arguments for PREFIX: Expected " + strconv.Itoa(cnt) + " arguments"
			}
			ix.Prefixes = append(ix.Prefixes, args[i:i+cnt]...)
			i += cnt
		case "LANGUAGE":
			l, ok := next()
			if !ok {
				return nil, "LANGUAGE: Expected a value"
			}
			if !strings.EqualFold(l, "english") {
				return nil, "ERR LANGUAGE " + l + " is not supported by cairn: only english"
			}
		case "STOPWORDS":
			n, ok := next()
			cnt, err := strconv.Atoi(n)
			if !ok || err != nil || cnt < 0 || i+cnt > len(args) {
				return nil, "Bad arguments for STOPWORDS: Value is not a valid integer"
			}
			ix.Stopwords = append([]string{}, args[i:i+cnt]...)
			i += cnt
		case "SKIPINITIALSCAN", "NOOFFSETS", "NOHL", "NOFIELDS", "NOFREQS", "MAXTEXTFIELDS":
			if strings.EqualFold(a, "SKIPINITIALSCAN") {
				return nil, "ERR SKIPINITIALSCAN is not supported by cairn"
			}
			// Storage hints of RediSearch's inverted index; cairn's records do not depend on them.
		case "FILTER", "LANGUAGE_FIELD", "SCORE", "SCORE_FIELD", "PAYLOAD_FIELD", "TEMPORARY":
			return nil, "ERR " + strings.ToUpper(a) + " is not supported by cairn"
		case "SCHEMA":
			if msg := ix.parseSchema(args[i:]); msg != "" {
				return nil, msg
			}
			if len(ix.Prefixes) == 0 {
				ix.Prefixes = []string{""}
			}
			ix.prepare()
			return ix, ""
		default:
			return nil, "Unknown argument `" + a + "`"
		}
	}
}

func (ix *Index) parseSchema(args []string) string {
	if len(args) == 0 {
		return "Fields arguments are missing"
	}
	for i := 0; i < len(args); {
		f := Field{Name: args[i], Alias: args[i]}
		i++
		if i+1 < len(args) && strings.EqualFold(args[i], "AS") {
			f.Alias = args[i+1]
			i += 2
		}
		if i >= len(args) {
			return "Field `" + f.Name + "` does not have a type"
		}
		if msg := f.parseType(args, &i); msg != "" {
			return msg
		}
		if ix.FieldByAlias(f.Alias) >= 0 {
			return "Duplicate field in schema - " + f.Alias
		}
		if len(ix.Fields) >= 255 {
			return "ERR too many fields: cairn indexes at most 255"
		}
		ix.Fields = append(ix.Fields, f)
	}
	return ""
}

func (f *Field) parseType(args []string, i *int) string {
	switch t := strings.ToUpper(args[*i]); t {
	case "TEXT":
		f.Type, f.Weight = TypeText, 1
	case "TAG":
		f.Type, f.Separator = TypeTag, ","
	case "NUMERIC":
		f.Type = TypeNumeric
	case "GEO":
		f.Type = TypeGeo
	case "VECTOR", "GEOSHAPE":
		return "ERR " + t + " fields are not supported by cairn"
	default:
		return "Invalid field type for field `" + f.Name + "`"
	}
	*i++
	for *i < len(args) {
		opt := strings.ToUpper(args[*i])
		switch {
		case opt == "SORTABLE":
			f.Sortable = true
			if *i+1 < len(args) && strings.EqualFold(args[*i+1], "UNF") {
				*i++
			}
		case opt == "NOINDEX":
			f.NoIndex = true
		case opt == "WEIGHT" && f.Type == TypeText:
			if *i+1 >= len(args) {
				return "Bad arguments for WEIGHT: Expected an argument"
			}
			w, err := strconv.ParseFloat(args[*i+1], 64)
			if err != nil || w < 0 {
				return "Bad arguments for WEIGHT: Could not convert argument to expected type"
			}
			f.Weight = w
			*i++
		case opt == "NOSTEM" && f.Type == TypeText:
			f.NoStem = true
		case opt == "WITHSUFFIXTRIE":
			// A lookup structure for suffix queries; cairn answers none, so it changes nothing.
		case opt == "SEPARATOR" && f.Type == TypeTag:
			if *i+1 >= len(args) || len(args[*i+1]) != 1 {
				return "Tag separator must be a single character. Got `" + strings.Join(args[*i+1:min(*i+2, len(args))], "") + "`"
			}
			f.Separator = args[*i+1]
			*i++
		case opt == "CASESENSITIVE" && f.Type == TypeTag:
			f.CaseSensitive = true
		case opt == "PHONETIC" || opt == "INDEXEMPTY" || opt == "INDEXMISSING":
			return "ERR " + opt + " is not supported by cairn"
		default:
			return ""
		}
		*i++
	}
	return ""
}
