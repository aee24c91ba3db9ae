// node-redis's client.ft (FT.CREATE, FT.SEARCH, FT.AGGREGATE, FT._LIST, FT.DROPINDEX) against
// cairn, with TEXT, TAG, NUMERIC and GEO fields; every result is compared with the model this
// script keeps.
// Usage: node noderedis.mjs host:port
import { createClient, SchemaFieldTypes, AggregateSteps, AggregateGroupByReducers } from 'redis'

const [addr] = process.argv.slice(2)
const client = createClient({ url: `redis://${addr}` })
await client.connect()

const fail = (what, got, want) => {
  console.error(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`)
  process.exit(1)
}
const same = (what, got, want) => {
  if (JSON.stringify(got) !== JSON.stringify(want)) fail(what, got, want)
}

await client.ft.create('idx:bikes', {
  model: SchemaFieldTypes.TEXT,
  brand: SchemaFieldTypes.TAG,
  price: { type: SchemaFieldTypes.NUMERIC, SORTABLE: true },
  store: SchemaFieldTypes.GEO,
}, { ON: 'HASH', PREFIX: 'bike:' })

// Stores on one parallel (48.85 N) east of a centre at 2.35 E: one degree of longitude there
// is 73.1 km, so store i is 7.31 * i km away (plus or minus the metre a geohash moves it).
const brands = ['trek', 'giant', 'orbea', 'bianchi']
const kinds = ['road racer', 'mountain climber', 'city commuter', 'folding traveller']
const bikes = []
for (let i = 0; i < 40; i++) {
  const b = {
    id: `bike:${i}`,
    model: kinds[i % kinds.length],
    brand: brands[(i * 3) % brands.length],
    price: 100 + ((i * 37) % 900),
    store: `${(2.35 + (i % 10) * 0.1).toFixed(2)},48.85`,
    km: (i % 10) * 7.31,
  }
  await client.hSet(b.id, { model: b.model, brand: b.brand, price: String(b.price), store: b.store })
  bikes.push(b)
}
// An update and a delete: the index follows at once.
bikes[0].price = 5
await client.hSet('bike:0', 'price', '5')
await client.del('bike:1')
bikes.splice(1, 1)

const ids = (res) => res.documents.map((d) => d.id).sort()
const want = (pred) => bikes.filter(pred).map((b) => b.id).sort()
const all = { LIMIT: { from: 0, size: 1000 } }

// Tag, sorted by price, with the returned fields.
let res = await client.ft.search('idx:bikes', '@brand:{trek}', { ...all, SORTBY: { BY: 'price', DIRECTION: 'ASC' } })
const treks = bikes.filter((b) => b.brand === 'trek').sort((a, b) => a.price - b.price || (a.id < b.id ? -1 : 1))
same('tag sorted ids', res.documents.map((d) => d.id), treks.map((b) => b.id))
same('tag total', res.total, treks.length)
same('tag fields', res.documents.map((d) => d.value.price), treks.map((b) => String(b.price)))

// Numeric range with exclusive bound, and a page of it.
res = await client.ft.search('idx:bikes', '@price:[200 (600]', all)
same('numeric range', ids(res), want((b) => b.price >= 200 && b.price < 600))
res = await client.ft.search('idx:bikes', '@price:[200 (600]', { SORTBY: { BY: 'price', DIRECTION: 'DESC' }, LIMIT: { from: 2, size: 3 } })
const page = bikes.filter((b) => b.price >= 200 && b.price < 600).sort((a, b) => b.price - a.price || (a.id < b.id ? -1 : 1)).slice(2, 5)
same('numeric page', res.documents.map((d) => d.id), page.map((b) => b.id))

// Full text with stemming ("climbers" finds "climber"), and text AND tag.
res = await client.ft.search('idx:bikes', '@model:climbers', all)
same('text', ids(res), want((b) => b.model.includes('climber')))
res = await client.ft.search('idx:bikes', 'road @brand:{giant|orbea}', all)
same('text and tags', ids(res), want((b) => b.model.includes('road') && (b.brand === 'giant' || b.brand === 'orbea')))

// Geo radius in two units, and by parameters.
res = await client.ft.search('idx:bikes', '@store:[2.35 48.85 20 km]', all)
same('geo km', ids(res), want((b) => b.km < 20))
res = await client.ft.search('idx:bikes', '@store:[2.35 48.85 30 mi]', all)
same('geo mi', ids(res), want((b) => b.km < 30 * 1.60934))
res = await client.ft.search('idx:bikes', '@store:[$lon $lat $r $unit] @brand:{trek}', {
  ...all, PARAMS: { lon: 2.35, lat: 48.85, r: 40000, unit: 'm' }, DIALECT: 2,
})
same('geo params', ids(res), want((b) => b.km < 40 && b.brand === 'trek'))

// NOCONTENT through RETURN [] and a count.
res = await client.ft.search('idx:bikes', '*', { LIMIT: { from: 0, size: 0 } })
same('count', res.total, bikes.length)

// FT.AGGREGATE: count and sum per brand, sorted by brand.
const agg = await client.ft.aggregate('idx:bikes', '*', {
  STEPS: [
    {
      type: AggregateSteps.GROUPBY, properties: '@brand', REDUCE: [
        { type: AggregateGroupByReducers.COUNT, AS: 'n' },
        { type: AggregateGroupByReducers.SUM, property: '@price', AS: 'total' },
      ],
    },
    { type: AggregateSteps.SORTBY, BY: '@brand' },
  ],
})
const groups = {}
for (const b of bikes) {
  groups[b.brand] ??= { brand: b.brand, n: 0, total: 0 }
  groups[b.brand].n++
  groups[b.brand].total += b.price
}
const wantAgg = Object.values(groups).sort((a, b) => (a.brand < b.brand ? -1 : 1))
  .map((g) => ({ brand: g.brand, n: String(g.n), total: String(g.total) }))
same('aggregate', agg.results.map((r) => ({ brand: r.brand, n: r.n, total: r.total })), wantAgg)
same('aggregate total', agg.total, wantAgg.length)

// client.ft.info of node-redis 4 reads FT.INFO by position, RediSearch 2.8's layout, which
// cairn's reply (the fields it can fill, in Redis 8's order) does not have: read it by name.
const raw = await client.sendCommand(['FT.INFO', 'idx:bikes'])
const info = {}
for (let i = 0; i + 1 < raw.length; i += 2) info[raw[i]] = raw[i + 1]
same('info num_docs', String(info.num_docs), String(bikes.length))
same('info attribute types', info.attributes.map((a) => a[a.indexOf('type') + 1]), ['TEXT', 'TAG', 'NUMERIC', 'GEO'])
same('list', await client.ft._list(), ['idx:bikes'])

// Errors come back as Redis 8 words them.
try {
  await client.ft.search('idx:bikes', '@store:[2.35 48.85 5 parsec]')
  fail('bad unit', 'no error', 'Invalid GeoFilter unit')
} catch (e) {
  if (!String(e.message).includes('Invalid GeoFilter unit')) fail('bad unit', e.message, 'Invalid GeoFilter unit')
}

await client.ft.dropIndex('idx:bikes')
same('list after drop', await client.ft._list(), [])
await client.quit()
console.log('node-redis ft ok')
