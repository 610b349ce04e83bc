import {readFileSync, readdirSync} from 'node:fs';
const dir = '/tmp/prof';
const file = readdirSync(dir)[0];
const prof = JSON.parse(readFileSync(`${dir}/${file}`, 'utf8'));
const byId = new Map(prof.nodes.map(n => [n.id, n]));
const self = new Map();
const dt = prof.timeDeltas;
for (let i = 0; i < prof.samples.length; i++) self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + (dt[i] ?? 0));
const total = [...self.values()].reduce((a, b) => a + b, 0);
const agg = new Map();
for (const [id, t] of self) { const n = byId.get(id); const cf = n.callFrame; const key = `${cf.functionName || '(anon)'} ${cf.url.replace(/.*\/(node_modules\/[^/]+|dist\/[^ ]+)/, '$1')}:${cf.lineNumber}`; agg.set(key, (agg.get(key) ?? 0) + t); }
const byFile = new Map();
for (const [id, t] of self) { const n = byId.get(id); const url = n.callFrame.url; const k = url.includes('node_modules/') ? url.replace(/.*node_modules\/((@[^/]+\/)?[^/]+).*/, '$1') : url.replace(/.*\/dist\//, 'dist/'); byFile.set(k, (byFile.get(k) ?? 0) + t); }
console.log('total ms', Math.round(total / 1000));
console.log([...byFile].sort((a, b) => b[1] - a[1]).slice(0, 20).map(([k, t]) => `${(100 * t / total).toFixed(1)}% ${k}`).join('\n'));
console.log('---');
console.log([...agg].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([k, t]) => `${(100 * t / total).toFixed(1)}% ${k}`).join('\n'));
