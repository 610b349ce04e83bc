// The dashboard's OnStart method (deck.onstart, what O in the Offers pane calls) end to end: a real
// Deck against the simulated cloud rents the selected offer with the job in its variables, the
// instance shows in the fleet, and the verified outputs land in outputs/<job>/ with job.json, with
// progress and the outcome on the message line.
import {once} from 'node:events';
import {existsSync, mkdtempSync, readFileSync, readdirSync} from 'node:fs';
import {createServer, type Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {PNG} from 'pngjs';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {openSettings} from '../../source/core/config.js';
import type {Deck} from '../../source/core/deck.js';
import {openTestDeck} from '../helpers/deck-context.js';
import {createVastdeckKey} from '../../source/core/ssh/keys.js';
import {startSimCloud, type SimCloud} from '../../source/sim/cloud.js';

function fox(): Buffer {
  const png = new PNG({width: 80, height: 60});
  for (let i = 0; i < png.data.length; i += 4) png.data.set([200, 90 + (i % 97), 30, 255], i);
  return PNG.sync.write(png);
}

const OUTPUTS = mkdtempSync(join(tmpdir(), 'vastdeck-onstart-dashboard-outputs-'));
let cloud: SimCloud;
let deck: Deck;
let images: Server;
let imageUrl: string;

beforeAll(async () => {
  cloud = await startSimCloud({port: 0, rateLimitScale: 0, churnIntervalMs: 0, speed: 400});
  await createVastdeckKey();
  const png = fox();
  images = createServer((_req, res) => res.writeHead(200, {'Content-Type': 'image/png', 'Content-Length': png.length}).end(png));
  images.listen(0, '127.0.0.1');
  await once(images, 'listening');
  imageUrl = `http://127.0.0.1:${(images.address() as AddressInfo).port}/fox.png`;
  const settings = openSettings();
  settings.set('outputsDir', OUTPUTS);
  deck = openTestDeck(cloud, {
    mode: 'demo',
    settings,
    stateDir: mkdtempSync(join(tmpdir(), 'vastdeck-onstart-dashboard-state-')),
    fleetPollMs: {busy: 100, idle: 200},
    onstartPollMs: {marker: 100, list: 100},
  });
});

afterAll(async () => {
  await deck?.close();
  images?.close();
  await cloud?.close();
});

async function until<T>(check: () => T | undefined, what: string, timeoutMs = 25_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}; last message: ${deck.messages.getSnapshot().current?.text ?? 'none'}`);
    await new Promise(resolve => setTimeout(resolve, 50));
  }
}

describe('deck.onstart (the dashboard\'s OnStart method)', () => {
  it('refuses a job it can check locally, before renting anything', async () => {
    const rows = await until(() => (deck.offers.getSnapshot().rows.length > 0 ? deck.offers.getSnapshot().rows : undefined), 'the offers');
    expect(await deck.onstart.start({workflow: 'img2img-sdxl', imageUrl: 'ftp://example.org/cat.png', prompt: 'x'}, rows)).toMatch(/must start with http:\/\/ or https:\/\//);
    expect(await deck.onstart.start({workflow: 'no-such-flow', imageUrl, prompt: 'x'}, rows)).toMatch(/no-such-flow/);
    expect(deck.fleet.getSnapshot().rows).toHaveLength(0);
  });

  it('rents the selected offer with the job embedded, shows the instance and collects verified outputs', async () => {
    const messages: string[] = [];
    const unsubscribe = deck.messages.subscribe(() => {
      const text = deck.messages.getSnapshot().current?.text;
      if (text && messages.at(-1) !== text) messages.push(text);
    });
    try {
      const rows = deck.offers.getSnapshot().rows.filter(row => row.change !== 'vanished');
      const selected = rows[1] ?? rows[0]!;
      const candidates = [selected, ...rows.filter(row => row !== selected)];
      const problem = await deck.onstart.start({workflow: 'img2img-sdxl', imageUrl, prompt: 'a fox in watercolor', width: 64, height: 64, steps: 3, seed: 7}, candidates);
      expect(problem).toBeUndefined();

      await until(() => (deck.fleet.getSnapshot().rows.length > 0 ? true : undefined), 'the instance in the fleet');
      const done = await until(() => messages.find(text => / done: 1 file in /.test(text)), 'the done message');
      const jobId = /^OnStart job (\S+) done/.exec(done)![1]!;
      const folder = join(OUTPUTS, jobId);
      expect(existsSync(join(folder, 'job.json'))).toBe(true);
      expect(readdirSync(folder).sort()).toEqual(['img2img_00001_.png', 'job.json']);
      const record = JSON.parse(readFileSync(join(folder, 'job.json'), 'utf8')) as Record<string, any>;
      expect(record).toMatchObject({id: jobId, method: 'onstart', workflow: 'img2img-sdxl', seed: 7, inputs: {image: {url: imageUrl}}});
      expect(record.instance.offerId).toBe(selected.offer.id);
      expect(PNG.sync.read(readFileSync(join(folder, 'img2img_00001_.png'))).width).toBe(64);
      expect(messages.some(text => text.includes(`OnStart job ${jobId}: rented instance ${record.instance.id as number}, waiting for its done marker`))).toBe(true);
      expect(deck.fleet.getSnapshot().rows.map(row => row.instanceId)).toContain(record.instance.id);
    } finally {
      unsubscribe();
    }
  });
});
