// Cluster tests of ioredis and node-redis against a cairn cluster: each client, seeded with the
// addresses given on the command line, sets and reads keys of every shard (following MOVED),
// pipelines and runs a transaction on one slot, and receives pub/sub messages published on
// another node (and, with node-redis, sharded pub/sub). Prints one "ok" line per check and
// exits non-zero at the first failure. Run by tests/clients_test.go.
import Redis from 'ioredis';
import { createCluster } from 'redis';

const addrs = process.argv.slice(2).map((a) => {
  const [host, port] = a.split(':');
  return { host, port: Number(port) };
});

function check(cond, what) {
  if (!cond) {
    throw new Error(`check failed: ${what}`);
  }
  console.log(`ok ${what}`);
}

const timeout = (ms, what) => new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms));

async function ioredis() {
  const c = new Redis.Cluster(addrs, { redisOptions: { maxRetriesPerRequest: 5 } });
  try {
    for (let i = 0; i < 100; i++) await c.set(`io:${i}`, `v${i}`);
    let same = 0;
    for (let i = 0; i < 100; i++) if ((await c.get(`io:${i}`)) === `v${i}`) same++;
    check(same === 100, 'ioredis: SET and GET of 100 keys over every shard');
    const res = await c.pipeline().set('{io}a', '1').incr('{io}a').get('{io}a').exec();
    check(res[2][1] === '2', 'ioredis: pipeline on one slot');
    const tx = await c.multi().incr('{io}n').incr('{io}n').exec();
    check(tx[1][1] === 2, 'ioredis: MULTI/EXEC on one slot');
    const sub = new Redis.Cluster(addrs);
    const got = new Promise((resolve) => sub.on('message', (ch, msg) => resolve(`${ch}:${msg}`)));
    await sub.subscribe('io-news');
    await new Promise((r) => setTimeout(r, 200));
    await c.publish('io-news', 'hello');
    check((await Promise.race([got, timeout(5000, 'ioredis message')])) === 'io-news:hello', 'ioredis: pub/sub across nodes');
    sub.disconnect();
  } finally {
    c.disconnect();
  }
}

async function nodeRedis() {
  const c = createCluster({ rootNodes: addrs.map((a) => ({ url: `redis://${a.host}:${a.port}` })) });
  c.on('error', () => {});
  await c.connect();
  try {
    for (let i = 0; i < 100; i++) await c.set(`nr:${i}`, `v${i}`);
    let same = 0;
    for (let i = 0; i < 100; i++) if ((await c.get(`nr:${i}`)) === `v${i}`) same++;
    check(same === 100, 'node-redis: SET and GET of 100 keys over every shard');
    const tx = await c.multi().incr('{nr}n').incr('{nr}n').exec();
    check(tx[1] === 2, 'node-redis: MULTI/EXEC on one slot');
    const [a, b] = await Promise.all([c.set('{nr}p', 'x'), c.get('{nr}p')]);
    check(a === 'OK' && (b === 'x' || b === null), 'node-redis: pipelined commands');
    const sub = c.duplicate();
    sub.on('error', () => {});
    await sub.connect();
    const got = new Promise((resolve) => sub.subscribe('nr-news', (msg) => resolve(msg)));
    await new Promise((r) => setTimeout(r, 300));
    await c.publish('nr-news', 'hello');
    check((await Promise.race([got, timeout(5000, 'node-redis message')])) === 'hello', 'node-redis: pub/sub across nodes');
    const sgot = new Promise((resolve) => sub.sSubscribe('nr-shard', (msg) => resolve(msg)));
    await new Promise((r) => setTimeout(r, 300));
    await c.sPublish('nr-shard', 'sharded');
    check((await Promise.race([sgot, timeout(5000, 'node-redis sharded message')])) === 'sharded', 'node-redis: sharded pub/sub');
    await sub.disconnect();
  } finally {
    await c.disconnect();
  }
}

try {
  await ioredis();
  await nodeRedis();
  console.log('all ok');
  process.exit(0);
} catch (e) {
  console.error(e.stack || String(e));
  process.exit(1);
}
