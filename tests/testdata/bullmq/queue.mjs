// A BullMQ queue against cairn: workers, a job that fails twice and succeeds on its third
// attempt (backoff), a delayed job, and a job that exhausts its attempts. BullMQ keeps its
// state with Lua scripts (cmsgpack, cjson, many keys per script). Prints "all ok" on success.
// Usage: node queue.mjs host:port [cluster]
import { Queue, Worker, QueueEvents } from "bullmq";
import { Cluster } from "ioredis";

const [host, port] = process.argv[2].split(":");
const cluster = process.argv[3] === "cluster";
// In a cluster each queue, worker and event stream gets its own ioredis Cluster client.
const connect = () =>
  cluster
    ? new Cluster([{ host, port: Number(port) }], { redisOptions: { maxRetriesPerRequest: null } })
    : { host, port: Number(port), maxRetriesPerRequest: null };
const prefix = "{bq}"; // one hash slot, as BullMQ requires in a cluster
const name = "jobs-" + Date.now();

function fail(msg) {
  console.error("FAIL: " + msg);
  process.exit(1);
}

const timer = setTimeout(() => fail("timed out"), 60000);

const queue = new Queue(name, { connection: connect(), prefix });
const events = new QueueEvents(name, { connection: connect(), prefix });
await events.waitUntilReady();

const attempts = new Map();
const worker = new Worker(
  name,
  async (job) => {
    const n = (attempts.get(job.name) || 0) + 1;
    attempts.set(job.name, n);
    if (job.name === "flaky" && n < 3) throw new Error("flaky attempt " + n);
    if (job.name === "doomed") throw new Error("always fails");
    return { doubled: job.data.x * 2, at: Date.now() };
  },
  { connection: connect(), prefix, concurrency: 4 },
);

const done = new Map();
const failed = new Map();
const finished = new Promise((resolve) => {
  const check = () => {
    if (done.size + failed.size === 12) resolve();
  };
  worker.on("completed", (job, result) => {
    done.set(job.id, { job, result });
    check();
  });
  worker.on("failed", (job, err) => {
    if (job.attemptsMade >= (job.opts.attempts || 1)) {
      failed.set(job.id, { job, err });
      check();
    }
  });
});

const added = Date.now();
const plain = [];
for (let i = 0; i < 9; i++) plain.push(await queue.add("plain", { x: i }));
const flaky = await queue.add("flaky", { x: 100 }, { attempts: 3, backoff: { type: "fixed", delay: 100 } });
const delayed = await queue.add("delayed", { x: 7 }, { delay: 1500 });
const doomed = await queue.add("doomed", { x: 0 }, { attempts: 2 });

await finished;
clearTimeout(timer);

for (const j of plain) {
  const d = done.get(j.id);
  if (!d || d.result.doubled !== j.data.x * 2) fail("plain job " + j.id + " result " + JSON.stringify(d && d.result));
}
const f = done.get(flaky.id);
if (!f || f.result.doubled !== 200 || attempts.get("flaky") !== 3) fail("flaky job: attempts " + attempts.get("flaky"));
const d = done.get(delayed.id);
if (!d || d.result.at - added < 1400) fail("delayed job ran too early: " + (d && d.result.at - added) + " ms");
if (!failed.has(doomed.id)) fail("doomed job did not fail");
const counts = await queue.getJobCounts("completed", "failed", "waiting", "delayed", "active");
if (counts.completed !== 11 || counts.failed !== 1 || counts.waiting !== 0 || counts.delayed !== 0 || counts.active !== 0)
  fail("job counts " + JSON.stringify(counts));
const state = await queue.getJobState(flaky.id);
if (state !== "completed") fail("flaky state " + state);

await worker.close();
await events.close();
await queue.obliterate({ force: true });
await queue.close();
console.log("all ok", JSON.stringify(counts));
process.exit(0);
