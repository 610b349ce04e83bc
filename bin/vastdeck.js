#!/usr/bin/env node
// Launcher: React's production build costs 30-45 % less CPU (docs/ink-notes.md A4).
process.env.NODE_ENV ??= 'production';
await import('../dist/cli.js');
