package search

import (
	"strconv"

	"github.com/cockroachdb/pebble/v2"

	"github.com/cairn-db/cairn/internal/resp"
)

// AddFields appends attributes to the schema (FT.ALTER SCHEMA ADD).
func (ix *Index) AddFields(args []string) string {
	if len(args) == 0 {
		return "Fields arguments are missing"
	}
	return ix.parseSchema(args)
}

// Rebuild restarts the build of an index over the keys that exist, after its schema changed.
func Rebuild(b *pebble.Batch, ix *Index) error {
	ix.Building, ix.BuildPrefix, ix.BuildCursor, ix.BuildScanned = true, 0, nil, 0
	return Save(b, ix)
}

// TagVals lists the distinct values of a tag attribute, in byte order; msg is an error reply.
func (v *View) TagVals(ix *Index, name string) (vals []string, msg string, err error) {
	fi := ix.FieldByAlias(name)
	if fi < 0 {
		return nil, "Unknown field `" + name + "`", nil
	}
	if ix.Fields[fi].Type != TypeTag {
		return nil, "Not a tag field", nil
	}
	e := &evaluator{r: v.R, ix: ix}
	last := ""
	err = e.scan(fieldPrefix(ix.ID, kindTag, fi), func(rest, _ []byte) error {
		val, _, ok := splitEscaped(rest)
		if !ok {
			return errCorruptDoc
		}
		if s := string(val); len(vals) == 0 || s != last {
			vals, last = append(vals, s), s
		}
		return nil
	})
	return vals, "", err
}

// Info writes FT.INFO's reply. The fields come in RediSearch's order; those describing
// RediSearch's in-memory structures (inverted index sizes, GC, cursors) have no counterpart in
// cairn's records and are left out.
func (v *View) Info(cat *Catalog, name string, w *resp.Writer) {
	ix, n, ok := v.indexDocs(cat, name, w)
	if !ok {
		return
	}
	writeInfo(w, ix, n, ix.Building, ix.PercentIndexed())
}

// writeInfo writes FT.INFO's reply for ix holding n documents.
func writeInfo(w *resp.Writer, ix *Index, n int64, building bool, percent float64) {
	kv := func(n int) {
		if w.RESP3() {
			w.Map(n)
		} else {
			w.Array(2 * n)
		}
	}
	kv(7)
	w.BulkString("index_name")
	w.BulkString(ix.Name)
	w.BulkString("index_options")
	w.Array(0)
	w.BulkString("index_definition")
	kv(3)
	w.BulkString("key_type")
	w.BulkString("HASH")
	w.BulkString("prefixes")
	w.Array(len(ix.Prefixes))
	for _, p := range ix.Prefixes {
		w.BulkString(p)
	}
	w.BulkString("default_score")
	w.BulkString("1")
	w.BulkString("attributes")
	w.Array(len(ix.Fields))
	for _, f := range ix.Fields {
		var flags []string
		switch f.Type {
		case TypeText:
			flags = append(flags, "WEIGHT", strconv.FormatFloat(f.Weight, 'g', -1, 64))
			if f.NoStem {
				flags = append(flags, "NOSTEM")
			}
		case TypeTag:
			flags = append(flags, "SEPARATOR", f.Separator)
			if f.CaseSensitive {
				flags = append(flags, "CASESENSITIVE")
			}
		}
		if f.Sortable {
			flags = append(flags, "SORTABLE")
		}
		if f.NoIndex {
			flags = append(flags, "NOINDEX")
		}
		w.Array(6 + len(flags))
		w.BulkString("identifier")
		w.BulkString(f.Name)
		w.BulkString("attribute")
		w.BulkString(f.Alias)
		w.BulkString("type")
		w.BulkString(string(f.Type))
		for _, s := range flags {
			w.BulkString(s)
		}
	}
	w.BulkString("num_docs")
	w.Int(n)
	w.BulkString("indexing")
	w.Int(b2i(building))
	w.BulkString("percent_indexed")
	w.BulkString(strconv.FormatFloat(percent, 'g', 4, 64))
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// indexDocs finds the index FT.INFO names and counts its documents, replying with the error
// when it cannot (ok is false then).
func (v *View) indexDocs(cat *Catalog, name string, w *resp.Writer) (ix *Index, n int64, ok bool) {
	ix = cat.Lookup(name)
	if ix == nil {
		w.Error("Unknown index name")
		return nil, 0, false
	}
	n, err := DocCount(v.R, ix)
	if err != nil {
		w.Error("ERR " + err.Error())
		return nil, 0, false
	}
	return ix, n, true
}
