package command

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/cairn-db/cairn/internal/keyspace"
	"github.com/cairn-db/cairn/internal/replica"
	"github.com/cairn-db/cairn/internal/resp"
)

// searchBenchDocs is the number of hashes the search benchmarks load (CAIRN_SEARCH_DOCS).
func searchBenchDocs() int {
	if n, err := strconv.Atoi(os.Getenv("CAIRN_SEARCH_DOCS")); err == nil && n > 0 {
		return n
	}
	return 100_000
}

// benchApplier applies operations in runs of 64 through an Applier over a real engine.
type benchApplier struct {
	b     *testing.B
	a     *Applier
	index uint64
	run   []replica.Entry
}

func (ba *benchApplier) add(args ...string) {
	bargs := make([][]byte, len(args))
	for i, s := range args {
		bargs[i] = []byte(s)
	}
	ba.index++
	ba.run = append(ba.run, replica.Entry{Index: ba.index, Data: AppendOp(nil, 2, 0, 0, 1, bargs)})
	if len(ba.run) == 64 {
		ba.flush()
	}
}

func (ba *benchApplier) flush() [][]byte {
	results := make([][]byte, len(ba.run))
	if err := ba.a.Apply(ba.run, results); err != nil {
		ba.b.Fatal(err)
	}
	ba.run = ba.run[:0]
	return results
}

func (ba *benchApplier) do(args ...string) string {
	ba.flush()
	ba.add(args...)
	return string(ba.flush()[0])
}

var benchCities = []string{"paris", "rome", "oslo", "lima", "kyiv", "doha", "baku", "riga", "bern", "nice"}

func loadBenchHashes(ba *benchApplier, prefix string, n int) {
	for i := 0; i < n; i++ {
		ba.add("HSET", fmt.Sprintf("%s%07d", prefix, i), "city", benchCities[i%len(benchCities)],
			"age", strconv.Itoa(i%100), "name", "user number "+strconv.Itoa(i))
	}
	ba.flush()
}

const benchSchema = "SCHEMA city TAG age NUMERIC SORTABLE name TEXT"

// BenchmarkSearchBuild measures building an index over existing hashes, in build steps as the
// leader proposes them; it reports keys indexed per second.
func BenchmarkSearchBuild(b *testing.B) {
	n := searchBenchDocs()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		_, a := openBench(b)
		ba := &benchApplier{b: b, a: a}
		loadBenchHashes(ba, "u:", n)
		b.StartTimer()
		ba.do(strings.Fields("FT.CREATE idx PREFIX 1 u: " + benchSchema)...)
		for strings.Contains(ba.do("FT.INFO", "idx"), "indexing\r\n:1") {
			ba.do(BuildName, "idx")
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "keys/s")
}

// BenchmarkSearchWrite compares HSET on an indexed prefix with HSET on an unindexed one.
func BenchmarkSearchWrite(b *testing.B) {
	for _, prefix := range []string{"u:", "plain:"} {
		b.Run("prefix="+prefix, func(b *testing.B) {
			_, a := openBench(b)
			ba := &benchApplier{b: b, a: a}
			ba.do(strings.Fields("FT.CREATE idx PREFIX 1 u: " + benchSchema)...)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				ba.add("HSET", fmt.Sprintf("%s%07d", prefix, i%100000), "city", benchCities[i%len(benchCities)],
					"age", strconv.Itoa(i%100), "name", "user number "+strconv.Itoa(i))
			}
			ba.flush()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
		})
	}
}

// BenchmarkSearchQuery measures FT.SEARCH over searchBenchDocs hashes as a read runs it (a
// read-only Tx over the engine): a tag lookup and a numeric range, each returning 10 documents
// of the total it counts.
func BenchmarkSearchQuery(b *testing.B) {
	n := searchBenchDocs()
	_, a := openBench(b)
	ba := &benchApplier{b: b, a: a}
	loadBenchHashes(ba, "u:", n)
	ba.do(strings.Fields("FT.CREATE idx PREFIX 1 u: " + benchSchema)...)
	for strings.Contains(ba.do("FT.INFO", "idx"), "indexing\r\n:1") {
		ba.do(BuildName, "idx")
	}
	for _, q := range []string{"@city:{oslo}", "@age:[10 12]", "@city:{oslo} @age:[10 19]"} {
		b.Run(q, func(b *testing.B) {
			var w resp.Writer
			w.Proto = 2
			for i := 0; i < b.N; i++ {
				w.Reset()
				tx := keyspace.NewTx(a.eng.DB(), nil, 0, 1)
				c := &Ctx{Args: [][]byte{[]byte("FT.SEARCH"), []byte("idx"), []byte(q)}, W: &w, Tx: tx, Now: 1}
				runFTSearch(c)
				if w.Buf[0] != '*' {
					b.Fatalf("%q", w.Buf)
				}
			}
		})
	}
}

// BenchmarkKeyRange measures KEYRANGE over 100k string keys: LIMIT 1000 pages inside one hash
// tag (one slot) and across every slot (the heap merge); it reports keys per second.
func BenchmarkKeyRange(b *testing.B) {
	_, a := openBench(b)
	ba := &benchApplier{b: b, a: a}
	for i := 0; i < 100_000; i++ {
		ba.add("SET", fmt.Sprintf("{t}:%07d", i), "v")
		ba.add("SET", fmt.Sprintf("k:%07d", i), "v")
	}
	ba.flush()
	for _, r := range [][2]string{{"{t}:0050000", "{t}:1"}, {"k:0050000", "k:1"}} {
		b.Run(r[0], func(b *testing.B) {
			var w resp.Writer
			w.Proto = 2
			for i := 0; i < b.N; i++ {
				w.Reset()
				tx := keyspace.NewTx(a.eng.DB(), nil, 0, 1)
				c := &Ctx{Args: [][]byte{[]byte("KEYRANGE"), []byte(r[0]), []byte(r[1]), []byte("LIMIT"), []byte("1000")}, W: &w, Tx: tx, Now: 1}
				runKeyRange(c)
				if !strings.HasPrefix(string(w.Buf), "*1000\r\n") {
					b.Fatalf("%.40q", w.Buf)
				}
			}
			b.ReportMetric(float64(1000*b.N)/b.Elapsed().Seconds(), "keys/s")
		})
	}
}
