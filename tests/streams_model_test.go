package tests

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/cairn-db/cairn/internal/servertest"
)

// xmodel is a Go model of one stream with one consumer group.
type xmodel struct {
	ids    []uint64 // entry IDs as ms-0, in order
	values map[uint64]string
	last   uint64
	glast  uint64            // the group's last delivered ID
	pel    map[uint64]string // id → consumer
	counts map[uint64]int64  // id → delivery count
}

// TestStreamsModel runs random stream commands against the server and a model, comparing every
// reply: XADD (explicit IDs, some too small), XDEL, XTRIM, XRANGE, XREADGROUP, XACK, XCLAIM,
// XPENDING. The seed is logged; replay with -seed.
func TestStreamsModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(seed(t), 0))
	srv := servertest.Start(t)
	rdb := srv.Client()
	ctx := servertest.Ctx(t)
	m := &xmodel{values: map[uint64]string{}, pel: map[uint64]string{}, counts: map[uint64]int64{}}
	if err := rdb.XGroupCreateMkStream(ctx, "s", "g", "0").Err(); err != nil {
		t.Fatal(err)
	}
	consumers := []string{"a", "b", "c"}
	for step := 0; step < 600; step++ {
		switch op := rng.IntN(9); op {
		case 0, 1: // XADD
			id := m.last + uint64(rng.IntN(4)) // sometimes not greater: an error
			v := fmt.Sprint(step)
			_, err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: "s", ID: fmt.Sprintf("%d-0", id), Values: []string{"f", v}}).Result()
			if (err == nil) != (id > m.last) {
				t.Fatalf("step %d: XADD %d-0 after %d: %v", step, id, m.last, err)
			}
			if err == nil {
				m.ids = append(m.ids, id)
				m.values[id], m.last = v, id
			}
		case 2: // XDEL
			id := uint64(rng.IntN(int(m.last) + 2))
			n, err := rdb.XDel(ctx, "s", fmt.Sprintf("%d-0", id)).Result()
			want := int64(0)
			if _, ok := m.values[id]; ok {
				want = 1
				m.ids = slices.DeleteFunc(m.ids, func(x uint64) bool { return x == id })
				delete(m.values, id)
			}
			if err != nil || n != want {
				t.Fatalf("step %d: XDEL %d = %d, %v, want %d", step, id, n, err, want)
			}
		case 3: // XTRIM MAXLEN =
			maxlen := int64(rng.IntN(12))
			n, err := rdb.XTrimMaxLen(ctx, "s", maxlen).Result()
			want := max(0, int64(len(m.ids))-maxlen)
			for _, id := range m.ids[:want] {
				delete(m.values, id)
			}
			m.ids = m.ids[want:]
			if err != nil || n != want {
				t.Fatalf("step %d: XTRIM MAXLEN %d = %d, %v, want %d", step, maxlen, n, err, want)
			}
		case 4: // XREADGROUP >
			c := consumers[rng.IntN(3)]
			count := int64(rng.IntN(3) + 1)
			res, err := rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: c, Streams: []string{"s", ">"}, Count: count, Block: -1}).Result()
			var want []uint64
			for _, id := range m.ids {
				if id > m.glast && int64(len(want)) < count {
					want = append(want, id)
				}
			}
			if len(want) == 0 {
				if err != redis.Nil {
					t.Fatalf("step %d: XREADGROUP = %v, %v, want nil", step, res, err)
				}
				continue
			}
			if err != nil || len(res) != 1 || !slices.Equal(msgIDs(res[0].Messages), ids0(want)) {
				t.Fatalf("step %d: XREADGROUP = %v, %v, want %v", step, res, err, want)
			}
			for _, id := range want {
				m.pel[id], m.counts[id], m.glast = c, 1, id
			}
		case 5: // XACK
			id := uint64(rng.IntN(int(m.last) + 2))
			n, err := rdb.XAck(ctx, "s", "g", fmt.Sprintf("%d-0", id)).Result()
			want := int64(0)
			if _, ok := m.pel[id]; ok {
				want = 1
				delete(m.pel, id)
			}
			if err != nil || n != want {
				t.Fatalf("step %d: XACK %d = %d, %v, want %d", step, id, n, err, want)
			}
		case 6: // XCLAIM with min-idle 0
			id := uint64(rng.IntN(int(m.last) + 2))
			c := consumers[rng.IntN(3)]
			res, err := rdb.XClaimJustID(ctx, &redis.XClaimArgs{Stream: "s", Group: "g", Consumer: c, Messages: []string{fmt.Sprintf("%d-0", id)}}).Result()
			var want []string
			if _, pending := m.pel[id]; pending {
				if _, exists := m.values[id]; exists {
					m.pel[id] = c
					want = []string{fmt.Sprintf("%d-0", id)}
				} else {
					delete(m.pel, id)
				}
			}
			if err != nil || !slices.Equal(res, want) {
				t.Fatalf("step %d: XCLAIM %d = %v, %v, want %v", step, id, res, err, want)
			}
		case 7: // XPENDING summary
			p, err := rdb.XPending(ctx, "s", "g").Result()
			if err != nil || p.Count != int64(len(m.pel)) {
				t.Fatalf("step %d: XPENDING = %+v, %v, want %d", step, p, err, len(m.pel))
			}
			per := map[string]int64{}
			for _, c := range m.pel {
				per[c]++
			}
			for c, n := range per {
				if p.Consumers[c] != n {
					t.Fatalf("step %d: XPENDING %s = %d, want %d", step, c, p.Consumers[c], n)
				}
			}
		default: // XRANGE and XLEN
			msgs, err := rdb.XRange(ctx, "s", "-", "+").Result()
			if err != nil || !slices.Equal(msgIDs(msgs), ids0(m.ids)) {
				t.Fatalf("step %d: XRANGE = %v, %v, want %v", step, msgIDs(msgs), err, m.ids)
			}
			for _, msg := range msgs {
				var id uint64
				fmt.Sscanf(msg.ID, "%d-0", &id)
				if msg.Values["f"] != m.values[id] {
					t.Fatalf("step %d: %s = %v, want %s", step, msg.ID, msg.Values, m.values[id])
				}
			}
			if n, err := rdb.XLen(ctx, "s").Result(); err != nil || n != int64(len(m.ids)) {
				t.Fatalf("step %d: XLEN = %d, %v", step, n, err)
			}
		}
	}
}

func msgIDs(msgs []redis.XMessage) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.ID
	}
	return out
}

func ids0(ids []uint64) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = fmt.Sprintf("%d-0", id)
	}
	return out
}
