#!/usr/bin/env node
// Builds the bundle `bin/vastdeck.js` runs: source/ through esbuild into dist/bundle/ (ESM, split
// so a headless subcommand loads neither Ink nor the simulator unless it uses them). One file
// per load path starts much faster than ~300 modules (issue 11: module loading was most of the
// first frame). `--if-stale` skips the build when nothing under source/ changed since the last
// one (npm start). Two adjustments, both checked at build time:
// - `import.meta.url` in our sources points at the file's place in dist/ (where tsc puts it), so
//   paths like ../../provisioning/ resolve exactly as they do unbundled;
// - Ink's module-level text-measure caches (measure-text.js, wrap-text.js) keep every distinct
//   string ever drawn; a following log view draws new ones all the time, so the bundle bounds them
//   (cleared past BOUNDED_CACHE_ENTRIES) and memory stays flat.
import {readdirSync, readFileSync, statSync} from 'node:fs';
import {dirname, join, relative} from 'node:path';
import {fileURLToPath} from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SOURCE = join(ROOT, 'source');
const OUT_DIR = join(ROOT, 'dist', 'bundle');
const ENTRY_OUT = join(OUT_DIR, 'cli.js');
const BOUNDED_CACHE_ENTRIES = 4000;

function newestMtimeMs(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map(name => newestMtimeMs(join(path, name))));
}

function isStale() {
  let built;
  try {
    built = statSync(ENTRY_OUT).mtimeMs;
  } catch {
    return true;
  }
  const inputs = [SOURCE, join(ROOT, 'package-lock.json'), fileURLToPath(import.meta.url)];
  return inputs.some(path => newestMtimeMs(path) > built);
}

/** Rewrites `import.meta.url` in our sources to the file's URL in tsc's dist/ layout. */
const distUrls = {
  name: 'dist-import-meta-url',
  setup(build) {
    build.onLoad({filter: /[\\/]source[\\/].*\.tsx?$/}, async args => {
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const distFile = join(ROOT, 'dist', relative(SOURCE, args.path)).replace(/\.tsx?$/, '.js');
      const fromBundle = relative(OUT_DIR, distFile).split('\\').join('/');
      return {contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(fromBundle)}, import.meta.url).href`), loader: args.path.endsWith('x') ? 'tsx' : 'ts'};
    });
  },
};

const BOUNDED = `const cache = new Map(); const boundCache = () => { if (cache.size > ${BOUNDED_CACHE_ENTRIES}) cache.clear(); };`;
const CACHE_PATCHES = [
  {file: /ink[\\/]build[\\/]measure-text\.js$/, from: 'const cache = new Map();', to: BOUNDED, use: [['cache.set(text, dimensions);', 'boundCache(); cache.set(text, dimensions);']]},
  {
    file: /ink[\\/]build[\\/]wrap-text\.js$/,
    from: 'const cache = {};',
    to: BOUNDED,
    use: [
      ['const cachedText = cache[cacheKey];', 'const cachedText = cache.get(cacheKey);'],
      ['cache[cacheKey] = wrappedText;', 'boundCache(); cache.set(cacheKey, wrappedText);'],
    ],
  },
];

/** Bounds Ink's text caches; fails the build if Ink's code no longer looks as expected. */
const boundedInkCaches = {
  name: 'bounded-ink-caches',
  setup(build) {
    for (const patch of CACHE_PATCHES) {
      build.onLoad({filter: patch.file}, args => {
        let text = readFileSync(args.path, 'utf8');
        for (const [from, to] of [[patch.from, patch.to], ...patch.use]) {
          if (!text.includes(from)) throw new Error(`${relative(ROOT, args.path)} changed: "${from}" not found; update bin/build.js`);
          text = text.replace(from, to);
        }
        return {contents: text, loader: 'js'};
      });
    }
  },
};

export async function buildBundle() {
  const {build} = await import('esbuild');
  await build({
    entryPoints: [join(SOURCE, 'cli.ts')],
    outdir: OUT_DIR,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    minify: true,
    sourcemap: 'linked',
    legalComments: 'none',
    logLevel: 'warning',
    define: {'process.env.NODE_ENV': '"production"'},
    // ssh2's native crypto and cpu-features, ws's optional speedups (all optional, in try/catch), and
    // React DevTools, which Ink loads only with DEV=true.
    external: ['cpu-features', '*.node', 'bufferutil', 'utf-8-validate', 'react-devtools-core'],
    // CommonJS dependencies (ssh2 and its emscripten poly1305) use require() and __dirname: give
    // every chunk of the ESM bundle both.
    banner: {
      js: [
        "import {createRequire as __vastdeckRequire} from 'node:module';",
        "import {fileURLToPath as __vastdeckPath} from 'node:url';",
        'const require = __vastdeckRequire(import.meta.url);',
        'const __filename = __vastdeckPath(import.meta.url);',
        "const __dirname = __vastdeckPath(new URL('.', import.meta.url));",
      ].join(' '),
    },
    plugins: [distUrls, boundedInkCaches],
  });
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  if (process.argv.includes('--if-stale') && !isStale()) process.exit(0);
  await buildBundle();
  process.stdout.write(`vastdeck: built ${relative(process.cwd(), dirname(ENTRY_OUT)) || '.'}/\n`);
}
