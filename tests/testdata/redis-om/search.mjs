// redis-om for Node, with HASH entities, against cairn: save entities, search them by tag,
// numeric range, full text and sort, and compare with the model this script keeps.
// Usage: node search.mjs host:port
import { createClient } from 'redis'
import { Schema, Repository, EntityId } from 'redis-om'

const [addr] = process.argv.slice(2)
const client = createClient({ url: `redis://${addr}` })
await client.connect()

const schema = new Schema('person', {
  name: { type: 'string' },
  age: { type: 'number', sortable: true },
  bio: { type: 'text' },
  tags: { type: 'string[]' },
  verified: { type: 'boolean' },
}, { dataStructure: 'HASH' })
const people = new Repository(schema, client)
await people.createIndex()

const bios = ['loves running in the park', 'a quiet reader of books', 'runs a small bakery', 'plays chess online']
const model = []
for (let i = 0; i < 60; i++) {
  const p = {
    name: `person${i % 20}`,
    age: 18 + (i * 7) % 50,
    bio: bios[i % bios.length],
    tags: [['red', 'blue', 'green'][i % 3], i % 2 ? 'odd' : 'even'],
    verified: i % 5 === 0,
  }
  const saved = await people.save(p)
  model.push({ ...p, id: saved[EntityId] })
}
// One entity changes and one goes away: the index follows at once.
model[0].age = 99
await people.save(model[0].id, { ...model[0], id: undefined })
await people.remove(model[1].id)
model.splice(1, 1)

const fail = (what, got, want) => {
  console.error(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`)
  process.exit(1)
}
const ids = (es) => es.map((e) => e[EntityId]).sort()
const want = (pred) => model.filter(pred).map((p) => p.id).sort()
const check = (what, got, pred) => {
  const w = want(pred)
  if (JSON.stringify(ids(got)) !== JSON.stringify(w)) fail(what, ids(got), w)
}

check('tag equals', await people.search().where('name').equals('person3').return.all(), (p) => p.name === 'person3')
check('string[] contains', await people.search().where('tags').contains('blue').return.all(), (p) => p.tags.includes('blue'))
check('boolean', await people.search().where('verified').is.true().return.all(), (p) => p.verified)
check('numeric between', await people.search().where('age').between(30, 40).return.all(), (p) => p.age >= 30 && p.age <= 40)
check('numeric gt and tag', await people.search().where('age').gt(50).and('tags').contains('odd').return.all(),
  (p) => p.age > 50 && p.tags.includes('odd'))
check('text match (stemmed)', await people.search().where('bio').matches('run').return.all(), (p) => /run/.test(p.bio))
check('text or', await people.search().where('bio').matches('chess').or('age').lt(20).return.all(),
  (p) => p.bio.includes('chess') || p.age < 20)

const sorted = await people.search().where('age').gte(20).sortBy('age', 'DESC').return.page(0, 5)
const wantAges = model.filter((p) => p.age >= 20).map((p) => p.age).sort((a, b) => b - a).slice(0, 5)
if (JSON.stringify(sorted.map((e) => e.age)) !== JSON.stringify(wantAges)) fail('sortBy DESC page', sorted.map((e) => e.age), wantAges)
const n = await people.search().where('tags').contains('red').return.count()
if (n !== model.filter((p) => p.tags.includes('red')).length) fail('count', n, model.filter((p) => p.tags.includes('red')).length)
const first = await people.search().where('name').equals('person5').return.first()
if (!first || first.name !== 'person5') fail('first', first, 'person5')

await people.dropIndex()
await client.quit()
console.log('redis-om ok')
