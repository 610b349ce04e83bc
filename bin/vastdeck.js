#!/usr/bin/env node
// Launcher: runs the bundle (bin/build.js; one file per load path starts several times faster than
// the ~300 modules tsc emits), or tsc's dist/cli.js when only that was built. React's production
// build costs 30-45 % less CPU (docs/ink-notes.md A4).
import {existsSync} from 'node:fs';

process.env.NODE_ENV ??= 'production';
// The dashboard in a terminal draws every frame even where CI is set (Ink would hold all frames
// back until exit, leaving a blank screen); headless subcommands are unaffected.
if (process.stdin.isTTY && process.stdout.isTTY) process.env.CI = '0';
const bundle = new URL('../dist/bundle/cli.js', import.meta.url);
await import(existsSync(bundle) ? bundle.href : '../dist/cli.js');
