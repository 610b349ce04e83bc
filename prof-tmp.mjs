import {mkdtempSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fleetDashboard} from './bench/dashboard.js';
import {createVastdeckKey} from './dist/core/ssh/keys.js';
const home = mkdtempSync(join(tmpdir(), 'prof-'));
const env = {...process.env, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), XDG_STATE_HOME: join(home, '.state'), NODE_ENV: 'production', CI: '0'};
delete env.VAST_API_KEY; delete env.VAST_URL;
await createVastdeckKey(env);
const {sim, session} = await fleetDashboard(env, 8, ['--cpu-prof', '--cpu-prof-dir=/tmp/prof']);
session.write('2');
sim.flood(100);
await new Promise(r => setTimeout(r, 15000));
session.write('q');
await new Promise(r => setTimeout(r, 1500));
session.write('l');   // leave running, if asked
await new Promise(r => setTimeout(r, 3000));
await sim.stop();
process.exit(0);
