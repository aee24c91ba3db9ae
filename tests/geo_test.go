package tests

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/cairn-db/cairn/internal/servertest"
)

// Geo tests. The step tables were recorded from redis-server 7.0, whose geo commands Redis 8
// keeps unchanged.

func TestGeoScript(t *testing.T) {
	runSections(t, geoSections)
	runSections(t, geoTieSections)
}

func TestGeoRESP3(t *testing.T) {
	srv := servertest.Start(t)
	conn := srv.Dial()
	conn.Do("geoadd", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania")
	conn.Do("hello", "3")
	runSteps(t, conn, geoRESP3Steps)
}

// TestGeoStoreDist checks STOREDIST's scores to the last bit: redis-server 7.0 printed them with
// 17 significant digits, which read back to the same double.
func TestGeoStoreDist(t *testing.T) {
	srv := servertest.Start(t)
	conn := srv.Dial()
	conn.Do("geoadd", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania")
	for _, c := range []struct {
		args         []string
		member, want string
	}{
		{[]string{"geosearchstore", "d", "g", "frommember", "Palermo", "byradius", "200", "km", "storedist"}, "Catania", "166.27415156960032"},
		{[]string{"georadius", "g", "15", "37", "200", "km", "storedist", "d"}, "Palermo", "190.44242984775784"},
		{[]string{"georadius", "g", "15", "37", "200", "mi", "storedist", "d"}, "Catania", "35.071058862737644"},
		{[]string{"georadius", "g", "15", "37", "200000", "ft", "storedist", "d"}, "Catania", "185174.73054513845"},
		{[]string{"geosearchstore", "d", "g", "fromlonlat", "15", "37", "bybox", "500", "500", "km", "storedist"}, "Palermo", "190.44242984775784"},
	} {
		conn.Do(c.args...)
		got := conn.Do("zscore", "d", c.member)
		want, _ := strconv.ParseFloat(c.want, 64)
		gotF, err := strconv.ParseFloat(bulkText(got), 64)
		if err != nil || gotF != want {
			t.Fatalf("%s: ZSCORE d %s = %q, want %s", strings.Join(c.args, " "), c.member, got, c.want)
		}
	}
}

// bulkText is the text of a bulk string reply.
func bulkText(reply string) string {
	_, body, _ := strings.Cut(reply, "\r\n")
	return strings.TrimSuffix(body, "\r\n")
}

// TestGeoSearchMatchesScan checks GEOSEARCH, which reads only the geohash boxes around the
// centre, against a scan of the whole set filtered by GEODIST from the centre member: the same
// members (up to points on the very edge, where the two computations may round apart).
func TestGeoSearchMatchesScan(t *testing.T) {
	s := seed(t)
	rng := rand.New(rand.NewPCG(s, 1))
	srv := servertest.Start(t)
	conn := srv.Dial()
	const n = 400
	clong, clat := rng.Float64()*300-150, rng.Float64()*140-70
	spread := []float64{0.05, 1, 10}[rng.IntN(3)]
	args := []string{"geoadd", "g"}
	for i := 0; i < n; i++ {
		long := min(180, max(-180, clong+(rng.Float64()*2-1)*spread))
		lat := min(85, max(-85, clat+(rng.Float64()*2-1)*spread))
		args = append(args, strconv.FormatFloat(long, 'f', 6, 64), strconv.FormatFloat(lat, 'f', 6, 64), "m"+strconv.Itoa(i))
	}
	conn.Do(args...)
	for q := 0; q < 20; q++ {
		centre := "m" + strconv.Itoa(rng.IntN(n))
		radiusKM := spread * 111 * rng.Float64()
		rs := strconv.FormatFloat(radiusKM, 'f', 3, 64)
		got := map[string]bool{}
		for _, m := range parseBulkArray(t, conn.Do("geosearch", "g", "frommember", centre, "byradius", rs, "km")) {
			got[m] = true
		}
		r, _ := strconv.ParseFloat(rs, 64)
		for i := 0; i < n; i++ {
			m := "m" + strconv.Itoa(i)
			d, err := strconv.ParseFloat(bulkText(conn.Do("geodist", "g", centre, m, "km")), 64)
			if err != nil {
				t.Fatalf("GEODIST %s %s: %v (seed %d)", centre, m, err, s)
			}
			if d < r-1e-3 && !got[m] || d > r+1e-3 && got[m] {
				t.Fatalf("GEOSEARCH from %s radius %s km: %s at %v km included=%v (seed %d)", centre, rs, m, d, got[m], s)
			}
		}
	}
}

// parseBulkArray reads a RESP2 array of bulk strings.
func parseBulkArray(t *testing.T, reply string) []string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(reply, "\r\n"), "\r\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "*") {
		t.Fatalf("not an array: %q", reply)
	}
	var out []string
	for i := 2; i < len(lines); i += 2 {
		out = append(out, lines[i])
	}
	return out
}

// Recorded from redis-server 7.0.
var geoSections = []respSection{
	{"GEOADD", []respStep{
		{[]string{"geoadd", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"}, ":2\r\n"},
		{[]string{"zrange", "g", "0", "-1", "withscores"}, "*4\r\n$7\r\nPalermo\r\n$16\r\n3479099956230698\r\n$7\r\nCatania\r\n$16\r\n3479447370796909\r\n"},
		{[]string{"type", "g"}, "+zset\r\n"},
		{[]string{"geoadd", "g", "ch", "13.361389", "38.115556", "Palermo", "15", "37", "Catania"}, ":1\r\n"},
		{[]string{"geoadd", "g", "nx", "1", "1", "a", "2", "2", "Palermo"}, ":1\r\n"},
		{[]string{"geoadd", "g", "xx", "1", "1", "b", "3", "3", "a"}, ":0\r\n"},
		{[]string{"geoadd", "g", "xx", "ch", "4", "4", "a", "5", "5", "Palermo"}, ":2\r\n"},
		{[]string{"geoadd", "g", "xx", "nx", "1", "1", "b"}, "-ERR syntax error\r\n"},
		{[]string{"geoadd", "g", "ch", "nx"}, "-ERR wrong number of arguments for 'geoadd' command\r\n"},
		{[]string{"geoadd", "g", "1", "2", "c", "3"}, "-ERR syntax error\r\n"},
		{[]string{"geoadd", "g", "gt", "1", "2", "c"}, "-ERR syntax error\r\n"},
		{[]string{"geoadd", "g", "abc", "2", "c"}, "-ERR value is not a valid float\r\n"},
		{[]string{"geoadd", "g", "1", "abc", "c"}, "-ERR value is not a valid float\r\n"},
		{[]string{"geoadd", "g", "", "2", "c"}, "-ERR value is not a valid float\r\n"},
		{[]string{"geoadd", "g", "181", "2", "c"}, "-ERR invalid longitude,latitude pair 181.000000,2.000000\r\n"},
		{[]string{"geoadd", "g", "-180.5", "2", "c"}, "-ERR invalid longitude,latitude pair -180.500000,2.000000\r\n"},
		{[]string{"geoadd", "g", "1", "85.06", "c"}, "-ERR invalid longitude,latitude pair 1.000000,85.060000\r\n"},
		{[]string{"geoadd", "g", "1", "-85.06", "c"}, "-ERR invalid longitude,latitude pair 1.000000,-85.060000\r\n"},
		{[]string{"geoadd", "g", "inf", "2", "c"}, "-ERR invalid longitude,latitude pair inf,2.000000\r\n"},
		{[]string{"geoadd", "g", "1", "2", "ok", "181", "2", "c"}, "-ERR invalid longitude,latitude pair 181.000000,2.000000\r\n"},
		{[]string{"exists", "ok"}, ":0\r\n"},
		{[]string{"geoadd", "g", "180", "85.05112878", "n"}, ":1\r\n"},
		{[]string{"geoadd", "g", "-180", "-85.05112878", "s"}, ":1\r\n"},
		{[]string{"geoadd", "g", "0", "0", "zero"}, ":1\r\n"},
		{[]string{"zscore", "g", "n"}, "$17\r\n13510798882111488\r\n"},
		{[]string{"zscore", "g", "s"}, "$1\r\n0\r\n"},
		{[]string{"zscore", "g", "zero"}, "$16\r\n3377699720527872\r\n"},
		{[]string{"zscore", "g", "a"}, "$16\r\n3379667504504364\r\n"},
		{[]string{"geoadd", "g"}, "-ERR wrong number of arguments for 'geoadd' command\r\n"},
		{[]string{"geoadd", "g", "1", "2"}, "-ERR wrong number of arguments for 'geoadd' command\r\n"},
		{[]string{"set", "str", "x"}, "+OK\r\n"},
		{[]string{"geoadd", "str", "1", "2", "m"}, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
	}},
	{"GEOPOS GEOHASH GEODIST", []respStep{
		{[]string{"geoadd", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"}, ":2\r\n"},
		{[]string{"geoadd", "g", "180", "85.05112878", "n", "-180", "-85.05112878", "s", "0", "0", "zero", "-0.1275", "51.507222", "london"}, ":4\r\n"},
		{[]string{"geopos", "g", "n", "s", "Palermo", "nope", "zero", "london"}, "*6\r\n*2\r\n$3\r\n180\r\n$19\r\n85.0511287799999991\r\n*2\r\n$22\r\n-179.99999731779098511\r\n$21\r\n-85.05112751263942528\r\n*2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n*-1\r\n*2\r\n$19\r\n0.00000268220901489\r\n$19\r\n0.00000126736058093\r\n*2\r\n$19\r\n-0.1274988055229187\r\n$20\r\n51.50722081469902491\r\n"},
		{[]string{"geohash", "g", "n", "s", "Palermo", "nope", "zero", "london"}, "*6\r\n$11\r\nbp05b5048p0\r\n$11\r\n00bh0hbj200\r\n$11\r\nsqc8b49rny0\r\n$-1\r\n$11\r\ns0000000000\r\n$11\r\ngcpvj0e5m10\r\n"},
		{[]string{"geodist", "g", "Palermo", "Catania"}, "$11\r\n166274.1516\r\n"},
		{[]string{"geodist", "g", "Palermo", "Catania", "KM"}, "$8\r\n166.2742\r\n"},
		{[]string{"geodist", "g", "Palermo", "Catania", "ft"}, "$11\r\n545518.8700\r\n"},
		{[]string{"geodist", "g", "Palermo", "Catania", "mi"}, "$8\r\n103.3182\r\n"},
		{[]string{"geodist", "g", "Palermo", "Catania", "m"}, "$11\r\n166274.1516\r\n"},
		{[]string{"geodist", "g", "Palermo", "Catania", "x"}, "-ERR unsupported unit provided. please use M, KM, FT, MI\r\n"},
		{[]string{"geodist", "g", "Palermo", "Catania", "km", "x"}, "-ERR syntax error\r\n"},
		{[]string{"geodist", "g", "Palermo", "nope"}, "$-1\r\n"},
		{[]string{"geodist", "g", "Palermo", "Palermo"}, "$6\r\n0.0000\r\n"},
		{[]string{"geodist", "g", "n", "s"}, "$13\r\n18919844.5891\r\n"},
		{[]string{"geodist", "g", "zero", "london", "km"}, "$9\r\n5728.9700\r\n"},
		{[]string{"geodist", "nokey", "a", "b"}, "$-1\r\n"},
		{[]string{"geodist", "nokey", "a", "b", "parsec"}, "-ERR unsupported unit provided. please use M, KM, FT, MI\r\n"},
		{[]string{"geopos", "nokey", "a", "b"}, "*2\r\n*-1\r\n*-1\r\n"},
		{[]string{"geohash", "nokey", "a", "b"}, "*2\r\n$-1\r\n$-1\r\n"},
		{[]string{"geopos", "g"}, "*0\r\n"},
		{[]string{"geohash", "g"}, "*0\r\n"},
		{[]string{"geodist", "g", "a"}, "-ERR wrong number of arguments for 'geodist' command\r\n"},
		{[]string{"set", "str", "x"}, "+OK\r\n"},
		{[]string{"geodist", "str", "a", "b"}, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{[]string{"geopos", "str", "a"}, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{[]string{"geohash", "str", "a"}, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{[]string{"zadd", "z", "-1", "neg", "1e300", "huge", "3.5", "frac"}, ":3\r\n"},
		{[]string{"geopos", "z", "neg", "huge", "frac"}, "*3\r\n*2\r\n$3\r\n180\r\n$19\r\n85.0511287799999991\r\n*2\r\n$22\r\n-179.99999731779098511\r\n$21\r\n-85.05112751263942528\r\n*2\r\n$22\r\n-179.99999195337295532\r\n$21\r\n-85.05112497791824921\r\n"},
		{[]string{"geohash", "z", "neg", "huge", "frac"}, "*3\r\n$11\r\nbp05b5048p0\r\n$11\r\n00bh0hbj200\r\n$11\r\n00bh0hbj210\r\n"},
	}},
	{"GEOSEARCH", []respStep{
		{[]string{"geoadd", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"}, ":2\r\n"},
		{[]string{"geoadd", "g", "12.758489", "38.788135", "edge1", "17.241510", "38.788135", "edge2"}, ":2\r\n"},
		{[]string{"geosearch", "g", "frommember", "Palermo", "byradius", "200", "km"}, "*3\r\n$7\r\nPalermo\r\n$5\r\nedge1\r\n$7\r\nCatania\r\n"},
		{[]string{"geosearch", "g", "frommember", "Palermo", "byradius", "200", "km", "asc", "withdist", "withcoord", "withhash"}, "*3\r\n*4\r\n$7\r\nPalermo\r\n$6\r\n0.0000\r\n:3479099956230698\r\n*2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n*4\r\n$5\r\nedge1\r\n$7\r\n91.4007\r\n:3479273021651468\r\n*2\r\n$19\r\n12.7584877610206604\r\n$20\r\n38.78813451624225195\r\n*4\r\n$7\r\nCatania\r\n$8\r\n166.2742\r\n:3479447370796909\r\n*2\r\n$20\r\n15.08726745843887329\r\n$20\r\n37.50266842333162032\r\n"},
		{[]string{"geosearch", "g", "frommember", "Palermo", "byradius", "200", "km", "desc", "withdist"}, "*3\r\n*2\r\n$7\r\nCatania\r\n$8\r\n166.2742\r\n*2\r\n$5\r\nedge1\r\n$7\r\n91.4007\r\n*2\r\n$7\r\nPalermo\r\n$6\r\n0.0000\r\n"},
		{[]string{"geosearch", "g", "fromlonlat", "15", "37", "byradius", "200", "km", "asc"}, "*2\r\n$7\r\nCatania\r\n$7\r\nPalermo\r\n"},
		{[]string{"geosearch", "g", "fromlonlat", "15", "37", "bybox", "400", "400", "km", "asc", "withdist"}, "*4\r\n*2\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n*2\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n*2\r\n$5\r\nedge2\r\n$8\r\n279.7403\r\n*2\r\n$5\r\nedge1\r\n$8\r\n279.7405\r\n"},
		{[]string{"geosearch", "g", "fromlonlat", "15", "37", "bybox", "400", "400", "km", "desc", "withcoord"}, "*4\r\n*2\r\n$5\r\nedge1\r\n*2\r\n$19\r\n12.7584877610206604\r\n$20\r\n38.78813451624225195\r\n*2\r\n$5\r\nedge2\r\n*2\r\n$20\r\n17.24151045083999634\r\n$20\r\n38.78813451624225195\r\n*2\r\n$7\r\nPalermo\r\n*2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n*2\r\n$7\r\nCatania\r\n*2\r\n$20\r\n15.08726745843887329\r\n$20\r\n37.50266842333162032\r\n"},
		{[]string{"geosearch", "g", "fromlonlat", "15", "37", "bybox", "400", "400", "km", "count", "1"}, "*1\r\n$7\r\nCatania\r\n"},
		{[]string{"geosearch", "g", "fromlonlat", "15", "37", "bybox", "400", "400", "km", "count", "2", "desc"}, "*2\r\n$5\r\nedge1\r\n$5\r\nedge2\r\n"},
		{[]string{"geosearch", "g", "fromlonlat", "15", "37", "bybox", "400", "400", "km", "count", "1", "any"}, "*1\r\n$7\r\nPalermo\r\n"},
		{[]string{"geosearch", "g", "fromlonlat", "15", "37", "bybox", "4000", "4000", "km", "count", "3", "any", "asc"}, "*3\r\n$7\r\nCatania\r\n$7\r\nPalermo\r\n$5\r\nedge1\r\n"},
		{[]string{"geosearch", "g", "fromlonlat", "15", "37", "byradius", "10", "m"}, "*0\r\n"},
		{[]string{"geosearch", "g", "frommember", "Palermo", "byradius", "0", "km", "withdist"}, "*1\r\n*2\r\n$7\r\nPalermo\r\n$6\r\n0.0000\r\n"},
		{[]string{"geosearch", "g", "fromlonlat", "15", "37", "byradius", "200", "mi", "withdist", "asc"}, "*4\r\n*2\r\n$7\r\nCatania\r\n$7\r\n35.0711\r\n*2\r\n$7\r\nPalermo\r\n$8\r\n118.3357\r\n*2\r\n$5\r\nedge2\r\n$8\r\n173.8230\r\n*2\r\n$5\r\nedge1\r\n$8\r\n173.8231\r\n"},
		{[]string{"geosearch", "g", "fromlonlat", "15", "37", "byradius", "700000", "ft", "withdist", "asc"}, "*2\r\n*2\r\n$7\r\nCatania\r\n$11\r\n185174.7305\r\n*2\r\n$7\r\nPalermo\r\n$11\r\n624811.1215\r\n"},
		{[]string{"GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "KM", "ASC", "WITHDIST", "WITHHASH", "COUNT", "3"}, "*3\r\n*3\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n:3479447370796909\r\n*3\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n:3479099956230698\r\n*3\r\n$5\r\nedge2\r\n$8\r\n279.7403\r\n:3481342659049484\r\n"},
		{[]string{"geosearch", "nokey", "frommember", "nope", "byradius", "1", "m"}, "*0\r\n"},
		{[]string{"geosearch", "nokey", "fromlonlat", "1", "2", "byradius", "1", "m", "withdist"}, "*0\r\n"},
	}},
	{"GEOSEARCH errors", []respStep{
		{[]string{"geoadd", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"}, ":2\r\n"},
		{[]string{"set", "str", "x"}, "+OK\r\n"},
		{[]string{"geosearch", "str", "frommember", "a", "byradius", "1", "km"}, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{[]string{"geosearch", "g", "fromlonlat", "15", "37", "bybox", "400", "400", "km", "any"}, "-ERR the ANY argument requires COUNT argument\r\n"},
		{[]string{"geosearch", "g", "fromlonlat", "15", "37", "bybox", "400", "400", "km", "count", "0"}, "-ERR COUNT must be > 0\r\n"},
		{[]string{"geosearch", "g", "fromlonlat", "15", "37", "bybox", "400", "400", "km", "count", "-3"}, "-ERR COUNT must be > 0\r\n"},
		{[]string{"geosearch", "g", "fromlonlat", "15", "37", "bybox", "400", "400", "km", "count", "x"}, "-ERR value is not an integer or out of range\r\n"},
		{[]string{"geosearch", "g", "fromlonlat", "15", "37", "bybox", "400", "400", "km", "count"}, "-ERR syntax error\r\n"},
		{[]string{"geosearch", "g", "fromlonlat", "15", "37"}, "-ERR wrong number of arguments for 'geosearch' command\r\n"},
		{[]string{"geosearch", "g", "byradius", "1", "km", "asc"}, "-ERR wrong number of arguments for 'geosearch' command\r\n"},
		{[]string{"GeoSearch", "g", "fromlonlat", "15", "37", "asc"}, "-ERR wrong number of arguments for 'geosearch' command\r\n"},
		{[]string{"GeoSearch", "g", "asc", "byradius", "1", "km"}, "-ERR wrong number of arguments for 'geosearch' command\r\n"},
		{[]string{"geosearch", "g", "fromlonlat", "15", "37", "frommember", "Palermo", "byradius", "1", "m"}, "-ERR syntax error\r\n"},
		{[]string{"geosearch", "g", "frommember", "Palermo", "fromlonlat", "15", "37", "byradius", "1", "m"}, "-ERR syntax error\r\n"},
		{[]string{"geosearch", "g", "frommember", "nope", "byradius", "1", "m"}, "-ERR could not decode requested zset member\r\n"},
		{[]string{"geosearch", "g", "frommember", "Palermo", "byradius", "-1", "m"}, "-ERR radius cannot be negative\r\n"},
		{[]string{"geosearch", "g", "frommember", "Palermo", "byradius", "x", "m"}, "-ERR need numeric radius\r\n"},
		{[]string{"geosearch", "g", "frommember", "Palermo", "byradius", "1", "xx"}, "-ERR unsupported unit provided. please use M, KM, FT, MI\r\n"},
		{[]string{"geosearch", "g", "frommember", "Palermo", "byradius", "1"}, "-ERR wrong number of arguments for 'geosearch' command\r\n"},
		{[]string{"geosearch", "g", "frommember", "Palermo", "bybox", "1", "-1", "m"}, "-ERR height or width cannot be negative\r\n"},
		{[]string{"geosearch", "g", "frommember", "Palermo", "bybox", "x", "1", "m"}, "-ERR need numeric width\r\n"},
		{[]string{"geosearch", "g", "frommember", "Palermo", "bybox", "1", "x", "m"}, "-ERR need numeric height\r\n"},
		{[]string{"geosearch", "g", "frommember", "Palermo", "bybox", "1", "1", "parsec"}, "-ERR unsupported unit provided. please use M, KM, FT, MI\r\n"},
		{[]string{"geosearch", "g", "frommember", "Palermo", "bybox", "1", "1", "m", "byradius", "1", "m"}, "-ERR syntax error\r\n"},
		{[]string{"geosearch", "g", "frommember", "Palermo", "byradius", "1", "m", "bybox", "1", "1", "m"}, "-ERR syntax error\r\n"},
		{[]string{"geosearch", "g", "frommember", "Palermo", "byradius", "1", "m", "store", "x"}, "-ERR syntax error\r\n"},
		{[]string{"geosearch", "g", "frommember", "Palermo", "byradius", "1", "m", "storedist"}, "-ERR syntax error\r\n"},
		{[]string{"geosearch", "g", "frommember", "Palermo", "byradius", "1", "m", "nosuch"}, "-ERR syntax error\r\n"},
		{[]string{"geosearch", "g", "fromlonlat", "200", "37", "byradius", "1", "m"}, "-ERR invalid longitude,latitude pair 200.000000,37.000000\r\n"},
		{[]string{"geosearch", "g", "fromlonlat", "x", "37", "byradius", "1", "m"}, "-ERR value is not a valid float\r\n"},
		{[]string{"geosearch", "g", "frommember", "Palermo"}, "-ERR wrong number of arguments for 'geosearch' command\r\n"},
	}},
	{"GEOSEARCHSTORE", []respStep{
		{[]string{"geoadd", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"}, ":2\r\n"},
		{[]string{"set", "str", "x"}, "+OK\r\n"},
		{[]string{"geosearchstore", "dst", "g", "frommember", "Palermo", "byradius", "200", "km"}, ":2\r\n"},
		{[]string{"zrange", "dst", "0", "-1", "withscores"}, "*4\r\n$7\r\nPalermo\r\n$16\r\n3479099956230698\r\n$7\r\nCatania\r\n$16\r\n3479447370796909\r\n"},
		{[]string{"type", "dst"}, "+zset\r\n"},
		{[]string{"geosearchstore", "dst", "g", "frommember", "Palermo", "byradius", "200", "km", "storedist"}, ":2\r\n"},
		{[]string{"zrange", "dst", "0", "-1"}, "*2\r\n$7\r\nPalermo\r\n$7\r\nCatania\r\n"},
		{[]string{"geosearchstore", "dst", "g", "frommember", "Palermo", "byradius", "200", "km", "count", "1", "desc"}, ":1\r\n"},
		{[]string{"zrange", "dst", "0", "-1", "withscores"}, "*2\r\n$7\r\nCatania\r\n$16\r\n3479447370796909\r\n"},
		{[]string{"geosearchstore", "dst", "g", "frommember", "Palermo", "byradius", "200", "km", "withdist"}, "-ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options\r\n"},
		{[]string{"geosearchstore", "dst", "g", "frommember", "Palermo", "byradius", "200", "km", "withcoord"}, "-ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options\r\n"},
		{[]string{"geosearchstore", "dst", "g", "frommember", "Palermo", "byradius", "200", "km", "withhash"}, "-ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options\r\n"},
		{[]string{"geosearchstore", "dst", "g", "frommember", "Palermo", "byradius", "200", "km", "store", "x"}, "-ERR syntax error\r\n"},
		{[]string{"geosearchstore", "dst", "g", "frommember", "Palermo", "byradius", "1", "m", "desc"}, ":1\r\n"},
		{[]string{"zrange", "dst", "0", "-1"}, "*1\r\n$7\r\nPalermo\r\n"},
		{[]string{"geosearchstore", "dst", "g", "frommember", "Palermo", "byradius", "1", "km", "storedist"}, ":1\r\n"},
		{[]string{"zrange", "dst", "0", "-1", "withscores"}, "*2\r\n$7\r\nPalermo\r\n$1\r\n0\r\n"},
		{[]string{"geosearchstore", "dst", "g", "frommember", "nope", "byradius", "1", "km"}, "-ERR could not decode requested zset member\r\n"},
		{[]string{"geosearchstore", "dst", "g", "fromlonlat", "0", "0", "byradius", "1", "km"}, ":0\r\n"},
		{[]string{"exists", "dst"}, ":0\r\n"},
		{[]string{"set", "dst", "x"}, "+OK\r\n"},
		{[]string{"expire", "dst", "100"}, ":1\r\n"},
		{[]string{"geosearchstore", "dst", "g", "frommember", "Palermo", "byradius", "1", "km"}, ":1\r\n"},
		{[]string{"ttl", "dst"}, ":-1\r\n"},
		{[]string{"type", "dst"}, "+zset\r\n"},
		{[]string{"geosearchstore", "dst", "nokey", "frommember", "Palermo", "byradius", "2", "km", "storedist"}, ":0\r\n"},
		{[]string{"exists", "dst"}, ":0\r\n"},
		{[]string{"geosearchstore", "dst", "str", "frommember", "Palermo", "byradius", "2", "km"}, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{[]string{"geosearchstore", "g", "g", "frommember", "Palermo", "byradius", "1", "km"}, ":1\r\n"},
		{[]string{"zrange", "g", "0", "-1"}, "*1\r\n$7\r\nPalermo\r\n"},
	}},
	{"GEORADIUS", []respStep{
		{[]string{"geoadd", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"}, ":2\r\n"},
		{[]string{"set", "str", "x"}, "+OK\r\n"},
		{[]string{"georadius", "g", "15", "37", "200", "km"}, "*2\r\n$7\r\nPalermo\r\n$7\r\nCatania\r\n"},
		{[]string{"georadius", "g", "15", "37", "200", "km", "withdist", "withhash", "withcoord", "desc"}, "*2\r\n*4\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n:3479099956230698\r\n*2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n*4\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n:3479447370796909\r\n*2\r\n$20\r\n15.08726745843887329\r\n$20\r\n37.50266842333162032\r\n"},
		{[]string{"georadius", "g", "15", "37", "200", "km", "count", "1"}, "*1\r\n$7\r\nCatania\r\n"},
		{[]string{"georadius", "g", "15", "37", "200", "km", "count", "1", "any"}, "*1\r\n$7\r\nPalermo\r\n"},
		{[]string{"georadius", "g", "15", "37", "200", "km", "store", "d2"}, ":2\r\n"},
		{[]string{"zrange", "d2", "0", "-1", "withscores"}, "*4\r\n$7\r\nPalermo\r\n$16\r\n3479099956230698\r\n$7\r\nCatania\r\n$16\r\n3479447370796909\r\n"},
		{[]string{"georadius", "g", "15", "37", "200", "km", "storedist", "d2", "count", "1"}, ":1\r\n"},
		{[]string{"zrange", "d2", "0", "-1"}, "*1\r\n$7\r\nCatania\r\n"},
		{[]string{"georadius", "g", "15", "37", "200", "km", "storedist", "d2", "withdist"}, "-ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options\r\n"},
		{[]string{"georadius", "g", "15", "37", "200", "km", "store", "d2", "withcoord"}, "-ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options\r\n"},
		{[]string{"georadius", "g", "15", "37", "200", "km", "storedist"}, "-ERR syntax error\r\n"},
		{[]string{"georadius", "g", "15", "37", "200", "km", "frommember", "Palermo"}, "-ERR syntax error\r\n"},
		{[]string{"georadius", "g", "15", "37", "200", "km", "byradius", "1", "km"}, "-ERR syntax error\r\n"},
		{[]string{"georadius_ro", "g", "15", "37", "200", "km", "store", "d2"}, "-ERR syntax error\r\n"},
		{[]string{"georadius_ro", "g", "15", "37", "200", "km", "asc"}, "*2\r\n$7\r\nCatania\r\n$7\r\nPalermo\r\n"},
		{[]string{"georadius", "g", "200", "37", "200", "km"}, "-ERR invalid longitude,latitude pair 200.000000,37.000000\r\n"},
		{[]string{"georadius", "g", "15", "37", "-2", "km"}, "-ERR radius cannot be negative\r\n"},
		{[]string{"georadius", "g", "15", "37", "x", "km"}, "-ERR need numeric radius\r\n"},
		{[]string{"georadius", "g", "15", "37", "2", "lightyear"}, "-ERR unsupported unit provided. please use M, KM, FT, MI\r\n"},
		{[]string{"georadius", "g", "15", "37", "200"}, "-ERR wrong number of arguments for 'georadius' command\r\n"},
		{[]string{"georadius", "str", "15", "37", "200", "km"}, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{[]string{"georadius", "nokey", "15", "37", "200", "km"}, "*0\r\n"},
		{[]string{"georadius", "nokey", "15", "37", "200", "km", "store", "d2"}, ":0\r\n"},
		{[]string{"exists", "d2"}, ":0\r\n"},
		{[]string{"georadiusbymember", "g", "Palermo", "200", "km", "withdist"}, "*2\r\n*2\r\n$7\r\nPalermo\r\n$6\r\n0.0000\r\n*2\r\n$7\r\nCatania\r\n$8\r\n166.2742\r\n"},
		{[]string{"georadiusbymember", "g", "nope", "200", "km", "withdist"}, "-ERR could not decode requested zset member\r\n"},
		{[]string{"georadiusbymember", "g", "Palermo", "x", "km"}, "-ERR need numeric radius\r\n"},
		{[]string{"georadiusbymember", "nokey", "nope", "abc", "km", "withdist"}, "*0\r\n"},
		{[]string{"georadiusbymember", "nokey", "nope", "abc", "km", "store", "x"}, ":0\r\n"},
		{[]string{"georadiusbymember_ro", "g", "Palermo", "200", "km", "withdist", "count", "1"}, "*1\r\n*2\r\n$7\r\nPalermo\r\n$6\r\n0.0000\r\n"},
		{[]string{"georadiusbymember_ro", "g", "Palermo", "200", "km", "storedist", "x"}, "-ERR syntax error\r\n"},
		{[]string{"georadiusbymember", "g", "Palermo", "200", "km", "frommember", "x"}, "-ERR syntax error\r\n"},
		{[]string{"georadiusbymember", "g", "Palermo", "200", "km", "store", "d3"}, ":2\r\n"},
		{[]string{"zrange", "d3", "0", "-1"}, "*2\r\n$7\r\nPalermo\r\n$7\r\nCatania\r\n"},
	}},
	{"near the poles and the antimeridian", []respStep{
		{[]string{"geoadd", "p", "179.99", "80", "east", "-179.99", "80", "west", "0", "85", "pole", "179.9", "-84.9", "south", "-179.9", "-84.9", "south2"}, ":5\r\n"},
		{[]string{"geosearch", "p", "frommember", "east", "byradius", "50", "km", "withdist", "asc"}, "*2\r\n*2\r\n$4\r\neast\r\n$6\r\n0.0000\r\n*2\r\n$4\r\nwest\r\n$6\r\n0.3864\r\n"},
		{[]string{"geosearch", "p", "frommember", "pole", "byradius", "1000", "km", "withdist", "asc"}, "*1\r\n*2\r\n$4\r\npole\r\n$6\r\n0.0000\r\n"},
		{[]string{"geosearch", "p", "fromlonlat", "180", "-85", "byradius", "100", "km", "withdist", "asc"}, "*1\r\n*2\r\n$5\r\nsouth\r\n$7\r\n11.1657\r\n"},
		{[]string{"geosearch", "p", "fromlonlat", "0", "0", "byradius", "20000", "km", "asc"}, "*5\r\n$4\r\npole\r\n$5\r\nsouth\r\n$6\r\nsouth2\r\n$4\r\neast\r\n$4\r\nwest\r\n"},
		{[]string{"geosearch", "p", "fromlonlat", "0", "0", "bybox", "40000", "40000", "km", "asc"}, "*5\r\n$4\r\npole\r\n$5\r\nsouth\r\n$6\r\nsouth2\r\n$4\r\neast\r\n$4\r\nwest\r\n"},
		{[]string{"geodist", "p", "east", "west"}, "$8\r\n386.3605\r\n"},
		{[]string{"geodist", "p", "south", "south2", "ft"}, "$9\r\n6487.8334\r\n"},
	}},
}
var geoRESP3Steps = []respStep{
	{[]string{"geopos", "g", "Palermo", "nope"}, "*2\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n_\r\n"},
	{[]string{"geohash", "g", "Palermo", "nope"}, "*2\r\n$11\r\nsqc8b49rny0\r\n_\r\n"},
	{[]string{"geodist", "g", "Palermo", "nope"}, "_\r\n"},
	{[]string{"geodist", "g", "Palermo", "Catania"}, "$11\r\n166274.1516\r\n"},
	{[]string{"geosearch", "g", "frommember", "Palermo", "byradius", "200", "km", "asc", "withdist", "withcoord", "withhash"}, "*2\r\n*4\r\n$7\r\nPalermo\r\n$6\r\n0.0000\r\n:3479099956230698\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n*4\r\n$7\r\nCatania\r\n$8\r\n166.2742\r\n:3479447370796909\r\n*2\r\n,15.08726745843887329\r\n,37.50266842333162032\r\n"},
	{[]string{"georadius", "g", "15", "37", "200", "km", "withcoord"}, "*2\r\n*2\r\n$7\r\nPalermo\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n*2\r\n$7\r\nCatania\r\n*2\r\n,15.08726745843887329\r\n,37.50266842333162032\r\n"},
	{[]string{"geosearch", "nokey", "frommember", "x", "byradius", "1", "km"}, "*0\r\n"},
	{[]string{"geosearch", "g", "fromlonlat", "0", "0", "byradius", "1", "km"}, "*0\r\n"},
}

// Matches at equal distances, ordered as Redis's pqsort (COUNT) and qsort order them.
var geoTieSections = []respSection{
	{"equal distances", []respStep{
		{[]string{"geoadd", "t", "10.100000", "40.100000", "m41", "10.900000", "40.900000", "m19", "10.300000", "40.700000", "m50", "10.100000", "40.100000", "m83", "10.900000", "40.900000", "m06", "10.300000", "40.700000", "m09", "10.100000", "40.100000", "m68", "10.900000", "40.900000", "m12", "10.300000", "40.700000", "m46", "10.100000", "40.100000", "m74", "10.900000", "40.900000", "m07", "10.300000", "40.700000", "m64", "10.100000", "40.100000", "m27", "10.900000", "40.900000", "m04", "10.300000", "40.700000", "m11", "10.100000", "40.100000", "m55", "10.900000", "40.900000", "m53", "10.300000", "40.700000", "m08", "10.100000", "40.100000", "m30", "10.900000", "40.900000", "m11", "10.300000", "40.700000", "m70", "10.100000", "40.100000", "m54", "10.900000", "40.900000", "m07", "10.300000", "40.700000", "m72"}, ":22\r\n"},
		{[]string{"geosearch", "t", "fromlonlat", "10.5", "40.5", "byradius", "500", "km", "asc", "count", "5"}, "*5\r\n$3\r\nm64\r\n$3\r\nm72\r\n$3\r\nm70\r\n$3\r\nm08\r\n$3\r\nm50\r\n"},
		{[]string{"geosearch", "t", "fromlonlat", "10.5", "40.5", "byradius", "500", "km", "desc", "count", "7", "withdist"}, "*7\r\n*2\r\n$3\r\nm83\r\n$7\r\n55.9530\r\n*2\r\n$3\r\nm30\r\n$7\r\n55.9530\r\n*2\r\n$3\r\nm41\r\n$7\r\n55.9530\r\n*2\r\n$3\r\nm54\r\n$7\r\n55.9530\r\n*2\r\n$3\r\nm55\r\n$7\r\n55.9530\r\n*2\r\n$3\r\nm68\r\n$7\r\n55.9530\r\n*2\r\n$3\r\nm74\r\n$7\r\n55.9530\r\n"},
		{[]string{"geosearch", "t", "fromlonlat", "10.5", "40.5", "byradius", "500", "km", "asc", "count", "11"}, "*11\r\n$3\r\nm64\r\n$3\r\nm72\r\n$3\r\nm70\r\n$3\r\nm08\r\n$3\r\nm50\r\n$3\r\nm46\r\n$3\r\nm09\r\n$3\r\nm53\r\n$3\r\nm04\r\n$3\r\nm06\r\n$3\r\nm07\r\n"},
		{[]string{"geosearch", "t", "fromlonlat", "10.5", "40.5", "byradius", "500", "km", "asc"}, "*22\r\n$3\r\nm08\r\n$3\r\nm09\r\n$3\r\nm46\r\n$3\r\nm50\r\n$3\r\nm64\r\n$3\r\nm70\r\n$3\r\nm72\r\n$3\r\nm04\r\n$3\r\nm06\r\n$3\r\nm07\r\n$3\r\nm11\r\n$3\r\nm12\r\n$3\r\nm19\r\n$3\r\nm53\r\n$3\r\nm27\r\n$3\r\nm30\r\n$3\r\nm41\r\n$3\r\nm54\r\n$3\r\nm55\r\n$3\r\nm68\r\n$3\r\nm74\r\n$3\r\nm83\r\n"},
		{[]string{"geosearch", "t", "fromlonlat", "10.5", "40.5", "byradius", "500", "km", "desc"}, "*22\r\n$3\r\nm27\r\n$3\r\nm30\r\n$3\r\nm41\r\n$3\r\nm54\r\n$3\r\nm55\r\n$3\r\nm68\r\n$3\r\nm74\r\n$3\r\nm83\r\n$3\r\nm04\r\n$3\r\nm06\r\n$3\r\nm07\r\n$3\r\nm11\r\n$3\r\nm12\r\n$3\r\nm19\r\n$3\r\nm53\r\n$3\r\nm08\r\n$3\r\nm09\r\n$3\r\nm46\r\n$3\r\nm50\r\n$3\r\nm64\r\n$3\r\nm70\r\n$3\r\nm72\r\n"},
		{[]string{"georadius", "t", "10.5", "40.5", "500", "km", "count", "3"}, "*3\r\n$3\r\nm64\r\n$3\r\nm72\r\n$3\r\nm70\r\n"},
	}},
}

// TestHLLGeoEvents checks the keyspace events of the HyperLogLog and geo commands, as
// redis-server sends them for the same commands.
func TestHLLGeoEvents(t *testing.T) {
	srv := servertest.Start(t, "--notify-keyspace-events", "KEA")
	l := listen(t, srv, 2)
	runNotifySteps(t, srv.Client(), l, true, true, []notifyStep{
		{[]any{"PFADD", "h", "a"}, []string{"pfadd h"}},
		{[]any{"PFADD", "h", "a"}, nil},
		{[]any{"PFCOUNT", "h"}, nil},
		{[]any{"PFMERGE", "m", "h"}, []string{"pfadd m"}},
		{[]any{"PFDEBUG", "TODENSE", "h"}, nil},
		{[]any{"GEOADD", "g", "1", "1", "a", "2", "2", "b"}, []string{"zadd g"}},
		{[]any{"GEOADD", "g", "1", "1", "a"}, nil},
		{[]any{"GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "1", "1", "BYRADIUS", "500", "km"}, []string{"geosearchstore d"}},
		{[]any{"GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "50", "50", "BYRADIUS", "1", "m"}, []string{"del d"}},
		{[]any{"GEORADIUS", "g", "1", "1", "500", "km", "STOREDIST", "d2"}, []string{"georadiusstore d2"}},
		{[]any{"GEORADIUS", "nokey", "50", "50", "1", "km", "STORE", "g"}, []string{"del g"}},
	})
}
