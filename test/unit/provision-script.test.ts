// Runs provisioning/provision.sh with bash in a sandbox (a fake WORKSPACE and /venv/main) with
// stand-ins for the outside world (git, wget, curl, hf, pip, uv, apt-get, nvidia-smi) that log
// their argv; checks what the script does, that every line follows the log contract, and the stages.
import {spawnSync} from 'node:child_process';
import {createHash} from 'node:crypto';
import {chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {CONTRACT_KINDS, LOG_CONTRACT, contractPattern, parseContractLine, renderContractLine} from '../../source/core/instances/log-contract.js';
import {matchLogLine} from '../../source/core/instances/log-patterns.js';
import {parseTransfer} from '../../source/core/instances/progress.js';
import {type Stage, StageTracker} from '../../source/core/instances/stages.js';
import {MODEL_FOLDERS, validateManifest} from '../../source/core/provisioning/manifest.js';

const ROOT = join(import.meta.dirname, '..', '..');
const SCRIPT = join(ROOT, 'provisioning', 'provision.sh');
const HF_TOKEN = 'hf_StandInSecret0123456789';
const CIVITAI_TOKEN = 'civitai-StandInSecret-9876';
const SIZE = 400_000;
const PROVISIONING_LOG = '/var/log/portal/provisioning.log';
const COMFYUI_LOG = '/var/log/portal/comfyui.log';

/** Bash text as written: backslashes kept, \${ for a literal ${ (no interpolation). */
const sh = (strings: TemplateStringsArray): string => strings.raw.join('').replaceAll('\\${', '${');

/** Shared by every stand-in: `record <event> args…` appends `<µs>\t<tool>\t<event>\t<args…>` to the call log. */
const STANDIN_LIB = sh`
TOOL="$(basename "$0")"
record() {
  local event="$1"; shift
  local IFS=$'\t'
  printf '%s\t%s\t%s\t%s\n' "\${EPOCHREALTIME/./}" "$TOOL" "$event" "$*" >>"$STANDIN_LOG"
}
# STANDIN_FAIL_<TOOL>: fail when an argument contains this text.
fail_if_asked() {
  local var="STANDIN_FAIL_\${TOOL//-/_}" pattern arg
  pattern="\${!var:-}"
  [[ -n $pattern ]] || return 0
  for arg in "$@"; do
    if [[ $arg == *"$pattern"* ]]; then echo "[standin:$TOOL] failing as asked" >&2; exit 1; fi
  done
}
`;

const STANDINS: Record<string, string> = {
  git: sh`
record call "$@"
fail_if_asked "$@"
if [[ $1 == clone ]]; then
  dest="\${@: -1}"
  mkdir -p "$dest/.git"
  printf 'standin-dep==1.0\n' >"$dest/requirements.txt"
  echo "[standin:git] Cloning into '$dest'..."
fi
if [[ $1 == -C && $3 == symbolic-ref ]]; then exit 1; fi
exit 0
`,
  // -c -O <part> -o <log> -- <url>; STANDIN_WGET_FAIL="<file>:<n>|always|404,…" fails the first n
  // attempts (half the rest written, then a connection reset), every attempt, or answers 404.
  wget: sh`
out="" log="" url="" resume=0
while (($#)); do
  case "$1" in
    -O) out="$2"; shift ;;
    -o) log="$2"; shift ;;
    -c) resume=1 ;;
    --) url="$2"; shift ;;
  esac
  shift
done
record call "$url" "resume=$resume"
header=""
if [[ -n \${WGETRC:-} && -f $WGETRC ]]; then header="$(sed -n 's/^header = //p' "$WGETRC")"; fi
record header "$url" "$header"
name="\${url%%\?*}"; name="\${name##*/}"
count_file="$STANDIN_DIR/wget-$name.count"
count=$(( $(cat "$count_file" 2>/dev/null || echo 0) + 1 ))
echo "$count" >"$count_file"
have=0
if ((resume)) && [[ -f $out ]]; then have=$(wc -c <"$out"); else : >"$out"; fi
record start "$url" "from=$have"
echo "Length: $SIZE (0.4M), $((SIZE - have)) remaining [application/octet-stream]" >>"$log"
mode=""
IFS=',' read -ra rules <<<"\${STANDIN_WGET_FAIL:-}"
for rule in "\${rules[@]}"; do
  if [[ \${rule%%:*} == "$name" ]]; then mode="\${rule#*:}"; fi
done
if [[ $mode == 404 ]]; then
  echo "2026-09-14 10:02:43 ERROR 404: Not Found." >>"$log"
  record end "$url" "exit=8"
  exit 8
fi
if [[ $mode == always || ( -n $mode && $count -le $mode ) ]]; then
  head -c $(( (SIZE - have) / 2 )) /dev/zero >>"$out"
  sleep 0.1
  echo "Read error at byte $((have + (SIZE - have) / 2)) (Connection reset by peer)." >>"$log"
  record end "$url" "exit=4"
  exit 4
fi
left=$((SIZE - have))
for _ in 1 2 3 4; do
  head -c $((left / 4)) /dev/zero >>"$out"
  sleep "\${STANDIN_WGET_SLEEP:-0.15}"
done
head -c $((SIZE - $(wc -c <"$out"))) /dev/zero >>"$out"
record end "$url" "exit=0"
exit 0
`,
  // -o <dest> <url>: serves $STANDIN_FILES/<basename of url>; STANDIN_CURL_FAIL="<name>:<n>".
  curl: sh`
dest="" url=""
while (($#)); do
  case "$1" in
    -o) dest="$2"; shift ;;
    http*) url="$1" ;;
  esac
  shift
done
record call "$url"
name="\${url%%\?*}"; name="\${name##*/}"
count_file="$STANDIN_DIR/curl-$name.count"
count=$(( $(cat "$count_file" 2>/dev/null || echo 0) + 1 ))
echo "$count" >"$count_file"
rule="\${STANDIN_CURL_FAIL:-}"
if [[ \${rule%%:*} == "$name" && $count -le \${rule#*:} ]]; then echo "[standin:curl] (56) Recv failure: Connection reset by peer" >&2; exit 56; fi
if [[ ! -f $STANDIN_FILES/$name ]]; then echo "[standin:curl] (22) The requested URL returned error: 404" >&2; exit 22; fi
cp "$STANDIN_FILES/$name" "$dest"
`,
  // install …: prints success; show <pkg>: known when in STANDIN_PIP_INSTALLED="<pkg>=<version>,…".
  pip: sh`
record call "$@" "VIRTUAL_ENV=\${VIRTUAL_ENV:-}"
[[ $1 == pip ]] && shift
if [[ $1 == show ]]; then
  IFS=',' read -ra installed <<<"\${STANDIN_PIP_INSTALLED:-}"
  for entry in "\${installed[@]}"; do
    if [[ \${entry%%=*} == "$2" ]]; then printf 'Name: %s\nVersion: %s\n' "$2" "\${entry#*=}"; exit 0; fi
  done
  echo "[standin:$TOOL] WARNING: Package(s) not found: $2" >&2
  exit 1
fi
fail_if_asked "$@"
echo "[standin:$TOOL] Successfully installed \${*:2}"
`,
  'apt-get': sh`
record call "$@"
fail_if_asked "$@"
echo "[standin:apt-get] $1 done"
`,
  // STANDIN_CC="8.9,8.6": one compute capability per GPU; unset: nvidia-smi fails.
  'nvidia-smi': sh`
record call "$@"
if [[ -z \${STANDIN_CC:-} ]]; then echo "[standin:nvidia-smi] NVIDIA-SMI has failed" >&2; exit 9; fi
tr ',' '\n' <<<"$STANDIN_CC"
`,
  hf: sh`
record call "$@"
`,
};
STANDINS.uv = STANDINS.pip!;

interface Call {
  us: number;
  tool: string;
  event: string;
  args: string[];
}

interface Run {
  code: number | null;
  output: string;
  lines: string[];
  calls: Call[];
  box: Sandbox;
}

interface Sandbox {
  dir: string;
  workspace: string;
  comfy: string;
  bin: string;
  files: string;
  log: string;
  venv: string;
}

const sandboxes: string[] = [];
afterAll(() => {
  for (const dir of sandboxes) rmSync(dir, {recursive: true, force: true});
});

function sandbox(options: {uv?: boolean} = {}): Sandbox {
  const dir = mkdtempSync(join(tmpdir(), 'vastdeck-provision-'));
  sandboxes.push(dir);
  const box: Sandbox = {
    dir,
    workspace: join(dir, 'workspace'),
    comfy: join(dir, 'workspace', 'ComfyUI'),
    bin: join(dir, 'bin'),
    files: join(dir, 'files'),
    log: join(dir, 'calls.log'),
    venv: join(dir, 'venv', 'main'),
  };
  for (const path of [join(box.comfy, 'models', 'checkpoints'), join(box.comfy, 'custom_nodes'), box.bin, box.files, join(box.venv, 'bin'), join(dir, 'state')]) mkdirSync(path, {recursive: true});
  writeFileSync(join(box.venv, 'bin', 'activate'), `export VIRTUAL_ENV=${box.venv}\n`);
  writeFileSync(box.log, '');
  for (const [tool, body] of Object.entries(STANDINS)) {
    if (tool === 'uv' && options.uv === false) continue;
    const path = join(box.bin, tool);
    writeFileSync(path, `#!/usr/bin/env bash\nset -uo pipefail\n${STANDIN_LIB}\n${body}`);
    chmodSync(path, 0o755);
  }
  return box;
}

function run(box: Sandbox, manifest: unknown, env: Record<string, string> = {}): Run {
  const manifestPath = join(box.dir, 'manifest.json');
  writeFileSync(box.log, '');
  writeFileSync(manifestPath, typeof manifest === 'string' ? manifest : JSON.stringify(manifest, null, 2));
  const result = spawnSync('bash', ['-c', 'exec bash "$0" 2>&1', SCRIPT], {
    encoding: 'utf8',
    timeout: 25_000,
    env: {
      PATH: `${box.bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      HOME: box.dir,
      TMPDIR: box.dir,
      LANG: 'C.UTF-8',
      WORKSPACE: box.workspace,
      VASTDECK_VENV: box.venv,
      VASTDECK_MANIFEST: manifestPath,
      VASTDECK_PROGRESS_SECONDS: '0.1',
      VASTDECK_RETRY_BASE_SECONDS: '0',
      VASTDECK_ARCH: 'x86_64',
      STANDIN_LOG: box.log,
      STANDIN_DIR: join(box.dir, 'state'),
      STANDIN_FILES: box.files,
      SIZE: String(SIZE),
      STANDIN_CC: '8.9',
      ...env,
    },
  });
  const output = result.stdout;
  const calls = readFileSync(box.log, 'utf8').split('\n').filter(Boolean).map(line => {
    const [us, tool, event, ...args] = line.split('\t');
    return {us: Number(us), tool: tool!, event: event!, args: args.flatMap(arg => arg.split('\t'))};
  });
  return {code: result.status, output, lines: output.split('\n').filter(line => line !== ''), calls, box};
}

const callsOf = (result: Run, tool: string, event = 'call'): string[][] => result.calls.filter(call => call.tool === tool && call.event === event).map(call => call.args);
const contract = (result: Run, kind: string): Array<Record<string, string>> => result.lines.map(parseContractLine).filter(event => event?.kind === kind).map(event => ({...event!.values}));

const HF_URL = 'https://huggingface.co/stabilityai/stable-diffusion-xl-base-1.0/resolve/main/sd_xl_base_1.0.safetensors';
const CIVITAI_URL = 'https://civitai.com/api/download/models/135867?type=Model&format=SafeTensor';
const OTHER_URL = 'https://example.org/models/4x-UltraSharp.pth';
const SHA_OF_ZEROS = createHash('sha256').update(Buffer.alloc(SIZE)).digest('hex');

function fullManifest(box: Sandbox): Record<string, unknown> {
  writeFileSync(join(box.dir, 'txt2img.json'), JSON.stringify({nodes: []}));
  writeFileSync(join(box.files, 'remote-flow.json'), JSON.stringify({prompt: {}}));
  return {
    nodes: [{url: 'https://github.com/kijai/ComfyUI-KJNodes'}, {url: 'https://github.com/rgthree/rgthree-comfy.git', ref: 'v1.0.0'}],
    models: [
      {url: HF_URL, folder: 'checkpoints'},
      {url: CIVITAI_URL, folder: 'loras', filename: 'detail_tweaker_xl.safetensors'},
      {url: OTHER_URL, folder: 'upscale_models', sha256: SHA_OF_ZEROS},
    ],
    workflows: [{path: 'txt2img.json'}, {url: 'https://raw.githubusercontent.com/example-org/vastdeck/main/workflows/remote-flow.json'}],
    pip: ['gguf==0.17.1', 'piexif==1.1.3'],
    apt: ['ffmpeg'],
    comfyuiArgs: '--preview-method auto',
  };
}

/** The script's lines through the stage monitor, 100 ms apart, as read from provisioning.log; then `after` ([file, line]). */
function stagesOf(lines: readonly string[], after: ReadonlyArray<readonly [string, string]> = []): {stages: Stage[]; tracker: StageTracker} {
  const tracker = new StageTracker({createdAtMs: 0});
  let atMs = 1000;
  for (const [file, line] of [...lines.map(line => [PROVISIONING_LOG, line] as const), ...after]) tracker.feedLine(file, line, (atMs += 100));
  return {stages: tracker.snapshot().timeline.map(entry => entry.stage), tracker};
}

/** Stand-in output is tagged [standin:…]; everything else must be a contract line. */
function expectContractOnly(result: Run): void {
  const strays = result.lines.filter(line => !line.startsWith('[standin:') && parseContractLine(line) === undefined);
  expect(strays).toEqual([]);
}

const TRAP_LINE = /^\[ERROR\] Provisioning Script failed at line \d+ with exit code [1-9]\d*$/;

describe('provision.sh', () => {
  it('provisions a full manifest: steps in order, nodes, sage, parallel resumable downloads, workflows, args', () => {
    const box = sandbox();
    const result = run(box, fullManifest(box), {
      HF_TOKEN, CIVITAI_TOKEN,
      VASTDECK_DOWNLOAD_SLOTS: '2',
      COMFYUI_ARGS: '--disable-auto-launch --port 18188 --enable-cors-header',
    });
    expect(result.code, result.output).toBe(0);
    expectContractOnly(result);
    expect(result.lines.at(-1)).toMatch(/^\[vastdeck\] provisioning complete seconds=\d+$/);
    expect(contract(result, 'stage-start').map(values => values.step)).toEqual(LOG_CONTRACT.steps);
    expect(contract(result, 'stage-done').map(values => values.step)).toEqual(LOG_CONTRACT.steps);

    // apt, then sage with the pins, then pip, then nodes (clone --recursive, pinned ref, requirements).
    expect(callsOf(result, 'apt-get')).toEqual([['update'], ['install', '-y', '--no-install-recommends', 'ffmpeg']]);
    const uv = callsOf(result, 'uv');
    const installs = uv.filter(args => args[1] === 'install').map(args => args.slice(2, -1));
    expect(installs[0]).toEqual(['sageattention==1.0.6', 'triton==3.2.0']);
    expect(installs[1]).toEqual(['gguf==0.17.1', 'piexif==1.1.3']);
    expect(installs.slice(2)).toEqual([
      ['-r', join(box.comfy, 'custom_nodes', 'ComfyUI-KJNodes', 'requirements.txt')],
      ['-r', join(box.comfy, 'custom_nodes', 'rgthree-comfy', 'requirements.txt')],
    ]);
    expect(uv.every(args => args.at(-1) === `VIRTUAL_ENV=${box.venv}`)).toBe(true);
    expect(contract(result, 'sage-install')).toEqual([{triton: '3.2.0', sageattention: '1.0.6'}]);
    const git = callsOf(result, 'git');
    expect(git).toContainEqual(['clone', '--recursive', 'https://github.com/kijai/ComfyUI-KJNodes', join(box.comfy, 'custom_nodes', 'ComfyUI-KJNodes')]);
    expect(git).toContainEqual(['clone', '--recursive', 'https://github.com/rgthree/rgthree-comfy.git', join(box.comfy, 'custom_nodes', 'rgthree-comfy')]);
    expect(git).toContainEqual(['-C', join(box.comfy, 'custom_nodes', 'rgthree-comfy'), 'checkout', '--quiet', 'v1.0.0']);
    expect(contract(result, 'node')).toEqual([
      {action: 'clone', name: 'ComfyUI-KJNodes', ref: '-'},
      {action: 'clone', name: 'rgthree-comfy', ref: 'v1.0.0'},
    ]);
    const order = ['apt-get', 'uv', 'git'].map(tool => result.calls.findIndex(call => call.tool === tool));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    const lastNodeCall = result.calls.findLastIndex(call => call.tool === 'git' || (call.tool === 'uv' && call.args.includes('-r')));
    expect(result.calls.findIndex(call => call.tool === 'wget')).toBeGreaterThan(lastNodeCall);

    // Downloads: resumable (-c) into <folder>/<file>, tokens as headers for their hosts only.
    for (const [folder, name] of [['checkpoints', 'sd_xl_base_1.0.safetensors'], ['loras', 'detail_tweaker_xl.safetensors'], ['upscale_models', '4x-UltraSharp.pth']] as const) {
      expect(statSync(join(box.comfy, 'models', folder, name)).size).toBe(SIZE);
      expect(existsSync(join(box.comfy, 'models', folder, `${name}.part`))).toBe(false);
    }
    expect(callsOf(result, 'wget').every(args => args[1] === 'resume=1')).toBe(true);
    const headers = new Map(callsOf(result, 'wget', 'header').map(([url, header]) => [url, header ?? '']));
    expect(headers.get(HF_URL)).toBe(`Authorization: Bearer ${HF_TOKEN}`);
    expect(headers.get(CIVITAI_URL)).toBe(`Authorization: Bearer ${CIVITAI_TOKEN}`);
    expect(headers.get(OTHER_URL)).toBe('');
    expect(result.calls.filter(call => call.tool === 'wget' && call.event === 'call').flatMap(call => call.args).join(' ')).not.toContain('Bearer');
    expect(result.output).not.toContain(HF_TOKEN);
    expect(result.output).not.toContain(CIVITAI_TOKEN);

    // In parallel, never more than the 2 slots at a time.
    expect(maxOverlap(result)).toBe(2);
    expect(contract(result, 'download-batch')).toEqual([{files: '3', dir: join(box.comfy, 'models'), slots: '2'}]);
    expect(contract(result, 'download-done').map(values => values.file).sort()).toEqual(['4x-UltraSharp.pth', 'detail_tweaker_xl.safetensors', 'sd_xl_base_1.0.safetensors']);
    const progress = contract(result, 'download-progress');
    expect(progress.length).toBeGreaterThan(3);
    expect(progress.every(values => values.total === String(SIZE) && Number(values.pct) <= 100)).toBe(true);
    expect(progress.some(values => Number(values.rate) > 0 && Number(values.pct) > 0 && Number(values.pct) < 100)).toBe(true);

    // Workflows where ComfyUI's browser looks; args in $WORKSPACE/.env for the image's comfyui.sh.
    const workflows = join(box.comfy, 'user', 'default', 'workflows');
    expect(readdirSync(workflows).sort()).toEqual(['remote-flow.json', 'txt2img.json']);
    expect(contract(result, 'workflow').map(values => values.file)).toEqual(['txt2img.json', 'remote-flow.json']);
    const args = '--disable-auto-launch --port 18188 --enable-cors-header --use-sage-attention --preview-method auto';
    expect(readFileSync(join(box.workspace, '.env'), 'utf8')).toContain(`COMFYUI_ARGS='${args}'`);
    expect(contract(result, 'comfyui-args')).toEqual([{args}]);

    // The stage monitor: PROVISIONING → DOWNLOADING → STARTING_APP, all three files counted.
    const {stages, tracker} = stagesOf(result.lines);
    expect(stages).toEqual(['INITIALIZING', 'PROVISIONING', 'DOWNLOADING', 'STARTING_APP']);
    expect(tracker.snapshot().download).toMatchObject({filesDone: 3, filesTotal: 3, pct: 100});
    expect(tracker.snapshot().warnings).toEqual([]);
  });

  it('provisions the example manifest, with the workflows of this repository', () => {
    const box = sandbox();
    const result = run(box, {}, {VASTDECK_MANIFEST: join(ROOT, 'provisioning', 'manifest.example.json'), HF_TOKEN, CIVITAI_TOKEN});
    expect(result.code, result.output).toBe(0);
    expectContractOnly(result);
    expect(statSync(join(box.comfy, 'models', 'checkpoints', 'sd_xl_base_1.0.safetensors')).size).toBe(SIZE);
    expect(statSync(join(box.comfy, 'models', 'loras', 'detail_tweaker_xl.safetensors')).size).toBe(SIZE);
    expect(readdirSync(join(box.comfy, 'custom_nodes')).sort()).toEqual(['ComfyUI-KJNodes', 'rgthree-comfy']);
    for (const name of ['img2img-sdxl.json', 'img2vid.json']) {
      expect(readFileSync(join(box.comfy, 'user', 'default', 'workflows', name), 'utf8')).toBe(readFileSync(join(ROOT, 'workflows', name), 'utf8'));
    }
  });

  it('installs nothing for SageAttention below compute capability 8.0 and drops --use-sage-attention', () => {
    const box = sandbox();
    const result = run(box, {}, {STANDIN_CC: '7.5', COMFYUI_ARGS: '--port 18188 --use-sage-attention'});
    expect(result.code, result.output).toBe(0);
    expectContractOnly(result);
    expect(contract(result, 'gpu')).toEqual([{cc: '7.5', arch: 'x86_64'}]);
    expect(contract(result, 'sage-fallback')).toEqual([{reason: 'compute capability 7.5 is below 8.0; ComfyUI uses PyTorch attention'}]);
    expect(contract(result, 'sage-install')).toEqual([]);
    expect(callsOf(result, 'uv').filter(args => args.join(' ').includes('sageattention'))).toEqual([]);
    expect(readFileSync(join(box.workspace, '.env'), 'utf8')).toContain("COMFYUI_ARGS='--port 18188'");
    expect(stagesOf(result.lines).tracker.snapshot().warnings).toContain('SageAttention is off on this instance: compute capability 7.5 is below 8.0; ComfyUI uses PyTorch attention');
  });

  it('falls back without a GPU reading or off amd64, and keeps the Triton torch brought', () => {
    const none = run(sandbox(), {}, {STANDIN_CC: ''});
    expect(none.code, none.output).toBe(0);
    expect(contract(none, 'gpu')).toEqual([{cc: 'none', arch: 'x86_64'}]);
    expect(contract(none, 'sage-fallback')[0]!.reason).toMatch(/^no GPU compute capability found/);

    const arm = run(sandbox(), {}, {VASTDECK_ARCH: 'aarch64'});
    expect(contract(arm, 'sage-fallback')[0]!.reason).toMatch(/^the CPU is aarch64 and SageAttention wheels are amd64-only/);
    expect(callsOf(arm, 'uv')).toEqual([]);

    // Two GPUs: the lowest capability decides; Triton present → only sageattention is pinned.
    const box = sandbox();
    const kept = run(box, {}, {STANDIN_CC: '8.9,8.0', STANDIN_PIP_INSTALLED: 'triton=3.5.0'});
    expect(kept.code, kept.output).toBe(0);
    expect(contract(kept, 'gpu')).toEqual([{cc: '8.0', arch: 'x86_64'}]);
    expect(callsOf(kept, 'uv').filter(args => args[1] === 'install').map(args => args.slice(2, -1))).toEqual([['sageattention==1.0.6']]);
    expect(contract(kept, 'sage-install')).toEqual([{triton: '3.5.0', sageattention: '1.0.6'}]);
  });

  it('retries a failed download with doubling delays and resumes the partial file', () => {
    const box = sandbox();
    const result = run(box, {models: [{url: HF_URL, folder: 'checkpoints'}]}, {STANDIN_WGET_FAIL: 'sd_xl_base_1.0.safetensors:2', VASTDECK_RETRY_BASE_SECONDS: '0'});
    expect(result.code, result.output).toBe(0);
    expectContractOnly(result);
    expect(contract(result, 'download-retry')).toEqual([
      {file: 'sd_xl_base_1.0.safetensors', attempt: '1', attempts: '5', delay: '0', reason: 'wget exit 4 (network failure)'},
      {file: 'sd_xl_base_1.0.safetensors', attempt: '2', attempts: '5', delay: '0', reason: 'wget exit 4 (network failure)'},
    ]);
    const starts = callsOf(result, 'wget', 'start').map(args => Number(args[1]!.replace('from=', '')));
    expect(starts).toEqual([0, SIZE / 2, SIZE * 3 / 4]);
    expect(statSync(join(box.comfy, 'models', 'checkpoints', 'sd_xl_base_1.0.safetensors')).size).toBe(SIZE);
    expect(stagesOf(result.lines).stages).toEqual(['INITIALIZING', 'PROVISIONING', 'DOWNLOADING', 'STARTING_APP']);
  });

  it('fails after the last attempt with the contract failure line and the documented trap line', () => {
    const box = sandbox();
    const manifest = {models: [{url: HF_URL, folder: 'checkpoints'}, {url: OTHER_URL, folder: 'upscale_models'}]};
    const result = run(box, manifest, {STANDIN_WGET_FAIL: '4x-UltraSharp.pth:always', VASTDECK_DOWNLOAD_ATTEMPTS: '3', VASTDECK_RETRY_BASE_SECONDS: '1', HF_TOKEN});
    expect(result.code).toBe(1);
    expectContractOnly(result);
    expect(contract(result, 'download-retry').map(values => [values.attempt, values.delay])).toEqual([['1', '1'], ['2', '2']]);
    expect(contract(result, 'download-failed')).toEqual([{file: '4x-UltraSharp.pth', attempts: '3', reason: 'wget exit 4 (network failure)'}]);
    expect(result.lines.at(-2)).toBe('[vastdeck] provisioning failed step=models reason=1 of 2 downloads failed: 4x-UltraSharp.pth');
    expect(result.lines.at(-1)).toMatch(TRAP_LINE);
    expect(result.lines.at(-1)).toMatch(/exit code 1$/);
    expect(result.output).not.toContain(HF_TOKEN);
    // The other download finished; the failed one left only its resumable .part.
    expect(statSync(join(box.comfy, 'models', 'checkpoints', 'sd_xl_base_1.0.safetensors')).size).toBe(SIZE);
    expect(existsSync(join(box.comfy, 'models', 'upscale_models', '4x-UltraSharp.pth'))).toBe(false);
    expect(contract(result, 'stage-start').map(values => values.step)).not.toContain('workflows');

    // The monitor holds the failure until the provisioner gives up (it may run the script again),
    // then shows FAILED with the download cause and what to do.
    const alone = stagesOf(result.lines);
    expect(alone.stages.at(-1)).toBe('DOWNLOADING');
    const {stages, tracker} = stagesOf(result.lines, [
      [PROVISIONING_LOG, '2026-09-14 10:05:19 [ERROR] Provisioning script failed (exit 1)'],
      [PROVISIONING_LOG, '2026-09-14 10:05:19 [WARNING] Attempt 1/3 failed, retrying in 30s...'],
      [PROVISIONING_LOG, '2026-09-14 10:06:19 [ERROR] All 3 attempts exhausted'],
    ]);
    expect(stages).toEqual(['INITIALIZING', 'PROVISIONING', 'DOWNLOADING', 'FAILED']);
    const failure = tracker.snapshot().failure!;
    expect(failure.reason).toBe('Provisioning failed: the provisioner gave up after 3 attempts (Downloading 4x-UltraSharp.pth failed after 3 attempts: wget exit 4 (network failure))');
    expect(failure.suggestion).toMatch(/HF_TOKEN \/ CIVITAI_TOKEN/);
    // ComfyUI starting anyway (Vast's image does) is FAILED too.
    expect(stagesOf(result.lines, [[COMFYUI_LOG, '[START] Security scan']]).stages.at(-1)).toBe('FAILED');
  });

  it('gives up on an HTTP 404 at once, without retries', () => {
    const result = run(sandbox(), {models: [{url: OTHER_URL, folder: 'upscale_models'}]}, {STANDIN_WGET_FAIL: '4x-UltraSharp.pth:404'});
    expect(result.code).toBe(1);
    expect(contract(result, 'download-retry')).toEqual([]);
    expect(contract(result, 'download-failed')).toEqual([{file: '4x-UltraSharp.pth', attempts: '1', reason: 'wget exit 8 (ERROR 404: Not Found.)'}]);
    expect(result.lines.at(-1)).toMatch(TRAP_LINE);
  });

  it('fails early on an unknown model folder, with the same sentence vastdeck shows before create', () => {
    const manifest = {models: [{url: HF_URL, folder: 'lora'}], apt: ['ffmpeg'], nodes: [{url: 'https://github.com/kijai/ComfyUI-KJNodes'}]};
    const result = run(sandbox(), manifest);
    expect(result.code).toBe(1);
    expectContractOnly(result);
    const check = validateManifest(manifest);
    expect(check.ok).toBe(false);
    const [sentence] = check.problems;
    expect(sentence).toMatch(/^models\[0\]\.folder "lora" is not a ComfyUI model folder; use one of checkpoints, loras, /);
    expect(result.lines.at(-2)).toBe(`[vastdeck] provisioning failed step=manifest reason=${sentence}`);
    expect(result.lines.at(-1)).toMatch(TRAP_LINE);
    expect(result.calls.filter(call => call.tool !== 'nvidia-smi')).toEqual([]);
    expect(contract(result, 'stage-start').map(values => values.step)).toEqual(['setup', 'manifest']);
    const {tracker} = stagesOf(result.lines, [[COMFYUI_LOG, '[START] Security scan']]);
    expect(tracker.snapshot().failure?.suggestion).toMatch(/^Fix the manifest/);
  });

  it('repeats the TypeScript sentences for other manifest problems', () => {
    const manifest = {models: [{url: CIVITAI_URL, folder: 'loras'}], nodez: []};
    const result = run(sandbox(), manifest);
    const check = validateManifest(manifest);
    expect(check.problems).toHaveLength(2);
    expect(result.lines.at(-2)).toBe(`[vastdeck] provisioning failed step=manifest reason=${check.problems[0]!} (and 1 more problems)`);
    const broken = run(sandbox(), '{"models": [');
    expect(broken.lines.at(-2)).toMatch(/^\[vastdeck\] provisioning failed step=manifest reason=The manifest is not valid JSON: /);
  });

  it('installs with pip when uv is missing, and updates or keeps nodes already present', () => {
    const box = sandbox({uv: false});
    const node = join(box.comfy, 'custom_nodes', 'ComfyUI-KJNodes');
    mkdirSync(join(node, '.git'), {recursive: true});
    writeFileSync(join(node, 'requirements.txt'), 'x\n');
    const manifest = {nodes: [{url: 'https://github.com/kijai/ComfyUI-KJNodes'}], pip: ['piexif==1.1.3']};
    const result = run(box, manifest, {STANDIN_CC: '8.6'});
    expect(result.code, result.output).toBe(0);
    expect(callsOf(result, 'pip').filter(args => args[0] === 'install').map(args => args.slice(0, -1))).toEqual([
      ['install', '--no-cache-dir', 'sageattention==1.0.6', 'triton==3.2.0'],
      ['install', '--no-cache-dir', 'piexif==1.1.3'],
      ['install', '--no-cache-dir', '-r', join(node, 'requirements.txt')],
    ]);
    expect(callsOf(result, 'git')).toEqual([['-C', node, 'pull', '--ff-only']]);
    expect(contract(result, 'node')).toEqual([{action: 'update', name: 'ComfyUI-KJNodes', ref: '-'}]);

    const keep = run(box, {...manifest, autoUpdateNodes: false});
    expect(contract(keep, 'node')).toEqual([{action: 'keep', name: 'ComfyUI-KJNodes', ref: '-'}]);
    expect(callsOf(keep, 'git')).toEqual([]);
  });

  it('fetches the manifest from VASTDECK_MANIFEST_URL with retries and resolves workflow paths against it', () => {
    const box = sandbox();
    writeFileSync(join(box.files, 'manifest.json'), JSON.stringify({workflows: [{path: '../workflows/sdxl-txt2img.json'}]}));
    writeFileSync(join(box.files, 'sdxl-txt2img.json'), '{"1": {}}');
    const result = run(box, {}, {
      VASTDECK_MANIFEST: '',
      VASTDECK_MANIFEST_URL: 'https://raw.githubusercontent.com/example-org/vastdeck/main/provisioning/manifest.json?token=abc',
      STANDIN_CURL_FAIL: 'manifest.json:1',
    });
    expect(result.code, result.output).toBe(0);
    expectContractOnly(result);
    expect(contract(result, 'begin')).toEqual([{version: '1', manifest: 'https://raw.githubusercontent.com/example-org/vastdeck/main/provisioning/manifest.json'}]);
    expect(contract(result, 'download-retry')).toEqual([{file: 'manifest.json', attempt: '1', attempts: '5', delay: '0', reason: 'curl exit 56'}]);
    expect(callsOf(result, 'curl').map(args => args[0])).toEqual([
      'https://raw.githubusercontent.com/example-org/vastdeck/main/provisioning/manifest.json?token=abc',
      'https://raw.githubusercontent.com/example-org/vastdeck/main/provisioning/manifest.json?token=abc',
      'https://raw.githubusercontent.com/example-org/vastdeck/main/workflows/sdxl-txt2img.json',
    ]);
    expect(readFileSync(join(box.comfy, 'user', 'default', 'workflows', 'sdxl-txt2img.json'), 'utf8')).toBe('{"1": {}}');
  });

  it('fails the workflows step on a workflow that is not JSON', () => {
    const box = sandbox();
    writeFileSync(join(box.dir, 'broken.json'), '<html>');
    const result = run(box, {workflows: [{path: 'broken.json'}]});
    expect(result.code).toBe(1);
    expect(result.lines.at(-2)).toBe('[vastdeck] provisioning failed step=workflows reason=broken.json is not valid JSON');
    expect(existsSync(join(box.comfy, 'user', 'default', 'workflows', 'broken.json'))).toBe(false);
  });

  it('fails the step whose tool fails, and reports an unexpected command failure through the ERR trap', () => {
    const apt = run(sandbox(), {apt: ['ffmpeg']}, {STANDIN_FAIL_apt_get: 'install'});
    expect(apt.code).toBe(1);
    expectContractOnly(apt);
    expect(apt.lines.at(-2)).toBe('[vastdeck] provisioning failed step=apt reason=apt-get install ffmpeg failed');
    expect(apt.lines.at(-1)).toMatch(TRAP_LINE);

    // A plain command failing (not a checked one): the ERR trap names the step and the line.
    const box = sandbox();
    mkdirSync(join(box.workspace, '.env.vastdeck'));
    const result = run(box, {});
    expect(result.code).toBe(1);
    const trap = /^\[ERROR\] Provisioning Script failed at line (\d+) with exit code (\d+)$/.exec(result.lines.at(-1)!);
    expect(trap, result.output).not.toBeNull();
    expect(result.lines.at(-2)).toBe(`[vastdeck] provisioning failed step=args reason=a command failed at line ${trap![1]!} (exit code ${trap![2]!})`);
    expect(readFileSync(SCRIPT, 'utf8').split('\n')[Number(trap![1]) - 1]).toContain('.vastdeck');
    expect(result.lines.filter(line => !/^\[(vastdeck|ERROR|standin:\w+)\]/.test(line))).toEqual([expect.stringContaining('.env.vastdeck: Is a directory')]);
  });

  it('prints its templates exactly as log-contract.json defines them', () => {
    const text = readFileSync(SCRIPT, 'utf8');
    const table = /declare -rA CONTRACT=\(\n([\s\S]*?)\n\)/.exec(text)?.[1];
    expect(table).toBeDefined();
    const templates = Object.fromEntries(table!.split('\n').map(line => {
      const row = /^ {2}\[([a-z-]+)\]='(.*)'$/.exec(line);
      expect(row, line).not.toBeNull();
      return [row![1], row![2]];
    }));
    expect(templates).toEqual(Object.fromEntries(CONTRACT_KINDS.map(kind => [kind, LOG_CONTRACT.kinds[kind].template])));
    const folders = /readonly MODEL_FOLDERS=\(([^)]*)\)/.exec(text)?.[1]?.split(' ');
    expect(folders).toEqual([...MODEL_FOLDERS]);
  });

  it('is shellcheck-clean', () => {
    const result = spawnSync('shellcheck', [SCRIPT], {encoding: 'utf8'});
    if (result.error) throw new Error(`shellcheck is not installed (${result.error.message}); install it (apt-get install shellcheck) — CI does`);
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});

/** The most wget transfers running at once, from the stand-in's start/end stamps. */
function maxOverlap(result: Run): number {
  const events = result.calls.filter(call => call.tool === 'wget' && (call.event === 'start' || call.event === 'end'));
  let running = 0;
  let most = 0;
  for (const event of events.sort((a, b) => a.us - b.us)) {
    running += event.event === 'start' ? 1 : -1;
    most = Math.max(most, running);
  }
  return most;
}

describe('log contract', () => {
  it('renders every kind from its example and parses it back', () => {
    for (const kind of CONTRACT_KINDS) {
      const spec = LOG_CONTRACT.kinds[kind];
      const line = renderContractLine(kind, spec.example);
      expect(line, kind).toMatch(new RegExp(spec.regex));
      const event = parseContractLine(`${line}\r`);
      expect(event, line).toEqual({kind, stage: spec.stage, values: Object.fromEntries(spec.fields.map(field => [field, String(spec.example[field])]))});
    }
    expect(parseContractLine('[vastdeck] something else')).toBeUndefined();
    expect(parseContractLine('Downloading: https://example.org/x')).toBeUndefined();
    expect(() => renderContractLine('download-progress', {file: 'x', bytes: 'many', total: 1, pct: 1, rate: 1})).toThrow(/bytes must be a number/);
    expect(() => renderContractLine('failed', {step: 'models'})).toThrow(/missing value for reason/);
  });

  it('gives the stage monitor evidence for every kind, with what the contract says it proves', () => {
    const effects = Object.fromEntries(CONTRACT_KINDS.map(kind => [kind, matchLogLine(PROVISIONING_LOG, renderContractLine(kind, LOG_CONTRACT.kinds[kind].example))?.effect]));
    expect(effects).toEqual({
      'begin': 'attempt-start', 'stage-start': 'provisioning', 'stage-done': 'provisioning', 'gpu': 'provisioning',
      'sage-install': 'provisioning', 'sage-fallback': 'warning', 'node': 'provisioning', 'download-batch': 'download-batch',
      'download-start': 'download-file', 'download-progress': 'transfer', 'download-done': 'transfer', 'download-retry': 'warning',
      'download-failed': 'cause', 'workflow': 'provisioning', 'comfyui-args': 'provisioning', 'info': 'provisioning',
      'complete': 'provisioned', 'failed': 'step-failed', 'trap': 'step-failed',
    });
    const failed = (step: string) => matchLogLine(PROVISIONING_LOG, renderContractLine('failed', {step, reason: 'x'}))?.suggestion;
    expect(failed('nodes')).toMatch(/git URL and pinned ref/);
    expect(failed('pip')).toMatch(/package names/);
    expect(failed('workflows')).toMatch(/workflow URL or path/);
    expect(failed('setup')).toMatch(/^Read \/var\/log\/portal\/provisioning\.log/);
  });

  it('reads progress and done lines as transfers', () => {
    expect(parseTransfer('[vastdeck] download file=sd_xl_base_1.0.safetensors bytes=3019898880 total=6938078334 pct=43 rate=49283072')).toEqual({
      file: 'sd_xl_base_1.0.safetensors', pct: 43, bytesDone: 3019898880, bytesTotal: 6938078334, rateBytesPerSec: 49283072, etaSec: 80, ended: false, resumed: false,
    });
    expect(parseTransfer('[vastdeck] download file=x.bin bytes=10 total=0 pct=0 rate=0')).toEqual({file: 'x.bin', pct: 0, bytesDone: 10, rateBytesPerSec: 0, ended: false, resumed: false});
    expect(parseTransfer('[vastdeck] download done file=x.bin bytes=10 seconds=3')).toEqual({file: 'x.bin', pct: 100, bytesDone: 10, bytesTotal: 10, etaSec: 0, ended: true, resumed: false});
  });

  it('narrows a field of a pattern for table rows', () => {
    const models = contractPattern('failed', {step: 'models|workflows'});
    expect(models.test('[vastdeck] provisioning failed step=models reason=x')).toBe(true);
    expect(models.test('[vastdeck] provisioning failed step=nodes reason=x')).toBe(false);
    expect(() => contractPattern('failed', {nope: 'x'})).toThrow(/no simple group for nope/);
  });
});
