// Small measurement helpers shared by the benchmarks: repeat-and-summarise, CPU of a child
// process from /proc, and writing results to bench/results/.
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';

export const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));

export function summarise(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = q => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  const mean = sorted.reduce((sum, value) => sum + value, 0) / sorted.length;
  return {n: sorted.length, median: at(0.5), p95: at(0.95), min: sorted[0], max: sorted.at(-1), mean};
}

export async function repeat(times, fn) {
  const samples = [];
  for (let index = 0; index < times; index++) samples.push(await fn(index));
  return samples;
}

/** utime+stime of a process in ms (Linux /proc). */
export function cpuMsOf(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

export function round(value, digits = 2) {
  return Number.isFinite(value) ? Number(value.toFixed(digits)) : value;
}

export function writeResults(name, results) {
  mkdirSync(RESULTS_DIR, {recursive: true});
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const body = JSON.stringify({name, at: new Date().toISOString(), node: process.version, results}, null, 2);
  writeFileSync(`${RESULTS_DIR}${name}-${stamp}.json`, `${body}\n`);
  writeFileSync(`${RESULTS_DIR}${name}-latest.json`, `${body}\n`);
}

export const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));
