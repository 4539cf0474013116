// What the probes (bench/push-probe.js, bench/pull-probe.js) read from /proc about a server and the machine.
import { readdirSync, readFileSync } from 'node:fs';

/** user + system CPU of the process's threads in ms (10 ms ticks), summed by thread name */
export function threadCpu(pid) {
  const byName = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // node 20 names no thread: the main thread (the request loop) apart, the others (libuv's pool, V8's helpers) together
      const name = tid === String(pid) ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replace(/[0-9]+$/, '');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const entry = (byName[name] ??= { user: 0, sys: 0 });
      entry.user += Number(fields[11]) * 10;
      entry.sys += Number(fields[12]) * 10;
    } catch {
      /* a thread that ended */
    }
  }
  return byName;
}

export function cpuDelta(after, before) {
  const out = {};
  for (const [name, { user, sys }] of Object.entries(after)) {
    const u = user - (before[name]?.user ?? 0);
    const s = sys - (before[name]?.sys ?? 0);
    if (u || s) out[name] = { user: u, sys: s };
  }
  return out;
}

export const cpuTotal = (byName) => Object.values(byName).reduce((sum, { user, sys }) => sum + user + sys, 0);
export const cpuSystem = (byName) => Object.values(byName).reduce((sum, { sys }) => sum + sys, 0);

/** `main 30u/120s, node 0u/10s` */
export const cpuText = (byName) =>
  Object.entries(byName)
    .map(([n, { user, sys }]) => `${n} ${user}u/${sys}s`)
    .join(', ');

export function vmstat() {
  const out = {};
  for (const line of readFileSync('/proc/vmstat', 'utf8').split('\n')) {
    const [key, value] = line.split(' ');
    if (key) out[key] = Number(value);
  }
  return out;
}

const NOISY = /^nr_/;
/** the /proc/vmstat counters that moved (the `nr_` gauges left out) */
export function vmDelta(after, before) {
  return Object.fromEntries(Object.entries(after).filter(([k, v]) => !NOISY.test(k) && v !== before[k]).map(([k, v]) => [k, v - before[k]]));
}
