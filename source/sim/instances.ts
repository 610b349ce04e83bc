// The instances rented on the simulated cloud: create (validation, offer, credit), the §4.5 state
// machine on a `speed`-compressed clock, one instance host per container, billing, SSH keys and
// faults. cloud.ts builds one SimInstances; instance-routes.ts is its REST face; tests use inject().
import {randomBytes} from 'node:crypto';
import {EventEmitter} from 'node:events';
import type {BootScenarioName} from './boot-fixture.js';
import type {SimAccount} from './cloud.js';
import {startSimAutostop, type SimAutostop} from './autostop.js';
import {createSimComfy, deferredComfyHandlers, type SimComfy} from './comfy/comfy-server.js';
import {imageSizeGb, parseCreateBody, resolveImage, type SimAnswer} from './instance-create.js';
import {startInstanceHost, torchDeviceName, type InstanceHost} from './instance-host.js';
import {INSTANCE_QUIRKS, renderInstance, type InstanceQuirk, type InstanceView} from './instance-record.js';
import {offerPrices, type Market} from './market.js';
import {startSimOnstart, type SimOnstart} from './onstart.js';
import {startSshProxy, type SshProxy} from './ssh-proxy.js';
import {Random} from './random.js';
import type {FaultName, FaultPlan} from './fault-plan.js';
import {wallClock, type TimeSource, type TimerHandle} from './comfy/sim-clock.js';
import {buildProvisionedBoot, planProvisionedBoot, type ProvisioningPlan} from './provisioned-boot.js';
import {loadBootScenario} from './boot-fixture.js';

export type InstanceFault = 'pull-error' | 'oci-error' | 'exited' | 'offline' | 'unknown' | 'provisioning-failure' | 'drop-ssh' | 'refuse-ssh' | 'death';

export {INSTANCE_QUIRKS, type InstanceQuirk};

/** What an instance has cost so far, in $, by what Vast bills. */
export interface InstanceCharges {
  /** dph_total while running. */
  gpu: number;
  /** storage_total_cost from create until destroyed (also while stopped or loading). */
  storage: number;
  /** inet_down_cost per GB of image pull and model downloads. */
  bandwidth: number;
  /** GB downloaded (image and models). */
  downloadedGb: number;
  /** Of those, GB the boot's provisioning downloaded (models, nodes): what only the instance's logs show, never its API record. */
  provisionedGb: number;
}

export interface SimSshKey {
  id: number;
  public_key: string;
  created_at: string;
}

export interface SimInstancesOptions {
  market: Market;
  account: SimAccount;
  /** Time compression: sim seconds per real second, for boots and for billing. */
  speed: number;
  /** Where time comes from (the wall clock unless a test drives it). */
  time?: TimeSource;
  /** Quirks every new instance starts with (a create env VASTDECK_SIM_QUIRKS adds its own). */
  quirks?: readonly InstanceQuirk[];
  /** Faults armed by name (`vastdeck sim --faults`); each is asked at the moment it would strike. */
  faults?: FaultPlan;
}

interface Instance extends InstanceView {
  apiKey: string;
  imageGb: number;
  scenario: BootScenarioName;
  pull?: {startMs: number; realMs: number; chargedGb: number};
  pulled: boolean;
  refuseSsh: boolean;
  /** The container's host while it starts (once per instance). */
  launching?: Promise<InstanceHost>;
  /** The ComfyUI behind the host's 8188 gate (from the container's first start). */
  comfy?: SimComfy;
  /** The OnStart job of its env (VASTDECK_JOB_*), run against that ComfyUI. */
  onstart?: SimOnstart;
  /** Its autostop watchdog (VASTDECK_AUTOSTOP_* and the shipped script), while the container runs. */
  autostop?: SimAutostop;
  keys: SimSshKey[];
  /** Bumped by every transition, so a late timer or host start of an older phase does nothing. */
  phase: number;
  timers: Set<TimerHandle>;
  billedAtMs: number;
  destroyed: boolean;
  quirks: Set<InstanceQuirk>;
  charges: InstanceCharges;
  /** Bytes of each model billed so far (replayed boots). */
  modelBytes: Map<string, number>;
  /** What the create's shipped provisioning (script, manifest) makes the boot do, if any. */
  provisioning?: ProvisioningPlan;
  /** Vast's SSH proxy in front of it, from the create until the destroy. */
  sshProxy: SshProxy;
}

const CREATE_DELAY_SIM_MS = 4000;
const RESTART_DELAY_SIM_MS = 5000;
const REBOOT_SIM_MS = 10_000;
/** Variables a platform sets itself, or that are port requests: never copied from the create into the container. */
const PLATFORM_VARS = /^(-p |-h$|-v |-n |OPEN_BUTTON_TOKEN$|JUPYTER_TOKEN$|WEB_PASSWORD$|WEB_USERNAME$|CONTAINER_ID$|CONTAINER_API_KEY$|VAST_)/;

/** The container's variables from the create request, plus the scoped CONTAINER_API_KEY Vast injects. */
function containerEnv(env: ReadonlyArray<readonly [string, string]>, apiKey: string, comfyuiArgs: string | undefined): Record<string, string> {
  const vars = Object.fromEntries(env.filter(([name]) => !PLATFORM_VARS.test(name)));
  return {...vars, ...(comfyuiArgs ? {COMFYUI_ARGS: comfyuiArgs} : {}), CONTAINER_API_KEY: apiKey};
}

const HOST_EVENTS = ['provisioning-complete', 'provisioning-failed', 'comfy-listening'] as const;
const BILLING_TICK_MS = 250;
/** When armed faults strike after their moment (simulated ms). */
const BREAKDOWN_AFTER_SIM_MS = 30_000;
const DROP_SSH_AFTER_SIM_MS = 5000;
const DEATH_AFTER_SIM_MS = 1500;

/**
 * Events: 'comfy-listening', 'provisioning-complete', 'provisioning-failed', each with
 * {instanceId, atMs: Date.now()}.
 */
export class SimInstances {
  /** Scenario for the next create only (then cleared); env VASTDECK_SIM_SCENARIO still wins. */
  nextScenario: BootScenarioName | undefined;
  readonly events = new EventEmitter();
  private readonly live = new Map<number, Instance>();
  /** Destroyed instances, kept for their final charges. */
  private readonly gone = new Map<number, Instance>();
  private readonly accountKeys: SimSshKey[] = [];
  private readonly closing = new Set<Promise<void>>();
  private readonly ids: Random;
  private nextId: number;
  private nextKeyId = 5001;
  /** The billing clock; it starts with the first instance. */
  private ticker: TimerHandle | undefined;
  private closed = false;
  private readonly time: TimeSource;
  /** When this cloud's clock started (the time source's ms); the cloud clock runs from here. */
  readonly #epochMs: number;
  /** Quirks for instances created from now on. */
  defaultQuirks: Set<InstanceQuirk>;

  constructor(private readonly options: SimInstancesOptions) {
    if (!(options.speed > 0)) throw new RangeError(`speed must be a positive number, got ${options.speed}`);
    this.time = options.time ?? wallClock;
    this.#epochMs = this.time.now();
    this.defaultQuirks = new Set(options.quirks ?? []);
    this.ids = new Random(options.market.seed, 3);
    // Vast's ids only grow: they follow the clock (one per 10 s since 2026), so a simulator started
    // again later never hands out an id (and a host key under it) that a client already knows.
    const tensOfSeconds = Math.max(0, Math.floor((this.time.now() - Date.UTC(2026, 0, 1)) / 10_000));
    this.nextId = 26_000_000 + tensOfSeconds + this.ids.int(0, 900);
  }

  /** PUT /asks/{offerId}/: the answer to send, 200 with `new_contract` or a Vast-shaped error. */
  async create(offerId: string | number, body: unknown): Promise<SimAnswer> {
    const parsed = parseCreateBody(offerId, body);
    if ('status' in parsed) return parsed;
    const {spec, askId} = parsed;
    if (this.armed('offer-taken')) this.options.market.take(askId);
    const offer = this.options.market.get(askId);
    if (!offer || offer.rentable === false) {
      return spec.cancelUnavail
        ? {status: 410, json: {success: false, error: 'no_such_ask', msg: `error 410/3907: no_such_ask Instance type ${askId} is no longer available.`, ask_id: askId}}
        : {status: 404, json: {success: false, error: 'invalid_args', msg: `error 404/3603: no_such_ask Instance type by id ${askId} is not available.`, ask_id: askId}};
    }
    if (spec.price !== undefined && spec.price < offer.min_bid) {
      return {status: 400, json: {success: false, error: 'invalid_price', msg: `Your bid of $${spec.price}/h is below this offer's minimum bid of $${offer.min_bid}/h.`, ask_id: askId}};
    }
    const pricing = spec.price === undefined ? offer : {...offer, min_bid: spec.price};
    const prices = offerPrices(pricing, spec.disk, spec.price === undefined ? 'on-demand' : 'bid');
    this.accrue();
    const {balance} = this.options.account;
    if (balance <= 0 || balance < prices.dph_total) {
      const msg = `Your balance ($${balance.toFixed(2)}) does not cover one hour of this instance ($${prices.dph_total.toFixed(4)}/h): add credit and try again.`;
      return {status: 402, json: {success: false, error: 'insufficient_credit', msg, ask_id: askId}};
    }
    // Taken before the wait for the proxy's port, so a second create of the same offer meanwhile is refused.
    this.options.market.take(askId);
    const id = (this.nextId += this.ids.int(1, 50));
    const sshProxy = await startSshProxy({target: () => this.containerSshPort(id)});
    if (this.closed) {
      await sshProxy.close();
      return {status: 503, json: {success: false, error: 'unavailable', msg: 'The simulated cloud is shutting down.'}};
    }
    const now = this.time.now();
    const instance: Instance = {
      id,
      offer,
      prices,
      spec,
      imageUuid: resolveImage(spec.image, Number(offer.cuda_max_good)),
      imageGb: imageSizeGb(spec.image),
      apiKey: randomBytes(32).toString('hex'),
      jupyterToken: randomBytes(32).toString('hex'),
      scenario: spec.scenario ?? this.nextScenario ?? (Number(offer.inet_down) < 200 ? 'slow-resume' : 'happy'),
      actual: null,
      intended: spec.targetState,
      statusMsg: null,
      createdSec: this.cloudNowMs(now) / 1000,
      pulled: false,
      refuseSsh: false,
      keys: [...this.accountKeys],
      phase: 0,
      timers: new Set(),
      billedAtMs: now,
      destroyed: false,
      quirks: new Set([...this.defaultQuirks, ...spec.quirks]),
      charges: {gpu: 0, storage: 0, bandwidth: 0, downloadedGb: 0, provisionedGb: 0},
      modelBytes: new Map(),
      provisioning: planProvisionedBoot(spec.env, offer),
      sshProxy,
      sshProxyPort: sshProxy.port,
    };
    this.nextScenario = undefined;
    this.live.set(instance.id, instance);
    this.startTicker();
    this.after(instance, CREATE_DELAY_SIM_MS, () => this.beginLoading(instance));
    return {status: 200, json: {success: true, new_contract: instance.id, instance_api_key: instance.apiKey}};
  }

  /** Every live instance as the API shows it, oldest first. */
  /**
   * The cloud's clock, epoch ms: the time source's, running `speed` times faster from when this
   * cloud started. Every timestamp the API shows (start_date, uptime_mins, duration, the Date
   * header) is on it, so a client that bills by the API's own time gets the simulator's billing.
   */
  cloudNowMs(atMs = this.time.now()): number {
    return this.#epochMs + (atMs - this.#epochMs) * this.options.speed;
  }

  list(): Record<string, unknown>[] {
    return [...this.live.values()].map(instance => renderInstance(instance, this.options.speed, this.time.now(), this.cloudNowMs()));
  }

  get(id: number): Record<string, unknown> | undefined {
    const instance = this.live.get(id);
    return instance && renderInstance(instance, this.options.speed, this.time.now(), this.cloudNowMs());
  }

  /** The market's offers (volume offers are cut from them). */
  marketOffers(): Record<string, unknown>[] {
    return this.options.market.all() as unknown as Record<string, unknown>[];
  }

  /** The live instance whose scoped key (instance_api_key, CONTAINER_API_KEY) this is. */
  instanceOfKey(key: string): number | undefined {
    for (const instance of this.live.values()) if (instance.apiKey === key) return instance.id;
    return undefined;
  }

  /** What an instance has cost so far (billed up to now); undefined for an unknown id. */
  charges(id: number): InstanceCharges | undefined {
    const instance = this.live.get(id) ?? this.gone.get(id);
    if (!instance) return undefined;
    if (!instance.destroyed) this.bill(instance);
    return {...instance.charges};
  }

  /** Every instance ever created here, destroyed ones included (their charges stay readable), oldest first. */
  billedIds(): number[] {
    return [...this.gone.keys(), ...this.live.keys()].sort((a, b) => a - b);
  }

  /** Live instance ids, oldest first. */
  liveIds(): number[] {
    return [...this.live.keys()];
  }

  /** Switches a quirk of one instance (every live one when `id` is undefined). */
  setQuirk(id: number | undefined, quirk: InstanceQuirk, on: boolean): boolean {
    const targets = id === undefined ? [...this.live.values()] : [this.live.get(id)].filter((instance): instance is Instance => instance !== undefined);
    for (const instance of targets) {
      if (on) instance.quirks.add(quirk);
      else instance.quirks.delete(quirk);
    }
    return targets.length > 0 || id === undefined;
  }

  hostOf(id: number): InstanceHost | undefined {
    return this.live.get(id)?.host;
  }

  /** Where Vast's proxy forwards SSH: the container's sshd, only while the container runs. */
  private containerSshPort(id: number): number | undefined {
    const instance = this.live.get(id);
    return instance?.actual === 'running' ? instance.host?.sshPort : undefined;
  }

  /** The instance's simulated ComfyUI, for its fault hooks (drop/stall WebSockets, fail a job, restart). */
  comfyOf(id: number): SimComfy | undefined {
    return this.live.get(id)?.comfy;
  }

  scenarioOf(id: number): BootScenarioName | undefined {
    return this.live.get(id)?.scenario;
  }

  /** DELETE: false when there is no such (live) instance. Billing stops, the host closes. */
  destroy(id: number): boolean {
    const instance = this.live.get(id);
    if (!instance) return false;
    this.bill(instance);
    this.cancel(instance);
    instance.destroyed = true;
    instance.autostop?.stop();
    this.live.delete(id);
    this.gone.set(id, instance);
    this.track(instance.sshProxy.close());
    if (instance.host) this.track(instance.host.close());
    if (instance.comfy) this.track(instance.comfy.close());
    instance.onstart?.stop();
    return true;
  }

  /** PUT {"state"}: stop keeps the disk (and its bill); start boots the container again. */
  setState(id: number, state: 'running' | 'stopped'): boolean {
    const instance = this.live.get(id);
    if (!instance) return false;
    if (state === 'stopped') {
      instance.intended = 'stopped';
      this.halt(instance, 'stopped', null);
    } else if (instance.intended !== 'running' || !['running', 'loading', null].includes(instance.actual)) {
      instance.intended = 'running';
      this.cancel(instance);
      this.beginLoading(instance);
    }
    return true;
  }

  setLabel(id: number, label: string): boolean {
    const instance = this.live.get(id);
    if (instance) instance.spec.label = label;
    return instance !== undefined;
  }

  /** docker stop/start that keeps the GPU: 'rebooting' for a moment, then the container starts again. */
  reboot(id: number): boolean {
    const instance = this.live.get(id);
    if (!instance) return false;
    instance.intended = 'running';
    this.halt(instance, 'rebooting', instance.statusMsg);
    this.after(instance, REBOOT_SIM_MS, () => this.beginLoading(instance));
    return true;
  }

  /** Test and demo faults; false for an unknown id. */
  inject(id: number, kind: InstanceFault): boolean {
    const instance = this.live.get(id);
    if (!instance) return false;
    const image = instance.imageUuid;
    switch (kind) {
      case 'pull-error':
        this.halt(instance, 'loading', `Error response from daemon: manifest for ${image} not found: manifest unknown: manifest unknown`);
        break;
      case 'oci-error':
        this.halt(instance, 'created', 'Error: container failed to start: OCI runtime create failed: runc create failed: unable to start container process: error during container init: nvidia-container-cli: initialization error: driver/library version mismatch: unknown');
        break;
      case 'exited':
        this.halt(instance, 'exited', 'Exited (1): the container process exited unexpectedly');
        break;
      case 'offline':
        this.halt(instance, 'offline', instance.statusMsg);
        break;
      case 'unknown':
        this.cancel(instance);
        this.setStatus(instance, 'unknown', instance.statusMsg);
        break;
      case 'provisioning-failure':
        if (instance.host) instance.host.injectProvisioningFailure();
        else instance.scenario = 'failure';
        break;
      case 'drop-ssh':
        instance.host?.dropSshConnections();
        break;
      case 'refuse-ssh':
        instance.refuseSsh = true;
        instance.host?.setSshRefusing(true);
        break;
      case 'death':
        // The host died: no heartbeat (offline), SSH and ComfyUI gone mid-job.
        this.halt(instance, 'offline', 'Host is unreachable: no heartbeat from the machine.');
        instance.comfy?.dropWebSocket();
        break;
    }
    return true;
  }

  /** The container's stdout (the onstart log of the jupyter runtype); '' before it starts. */
  containerLog(id: number): string | undefined {
    const instance = this.live.get(id);
    if (!instance) return undefined;
    return instance.host?.fs.read('/var/log/onstart.log')?.toString('utf8') ?? '';
  }

  accountSshKeys(): readonly SimSshKey[] {
    return this.accountKeys;
  }

  /** Account keys are put on instances created later; running ones need attachSshKey (as the CLI warns). */
  addAccountSshKey(publicKey: string): SimSshKey {
    const key = this.newKey(publicKey);
    this.accountKeys.push(key);
    this.options.account.ssh_key = publicKey;
    return key;
  }

  removeAccountSshKey(keyId: number): boolean {
    const index = this.accountKeys.findIndex(key => key.id === keyId);
    if (index >= 0) this.accountKeys.splice(index, 1);
    this.options.account.ssh_key = this.accountKeys.at(-1)?.public_key ?? '';
    return index >= 0;
  }

  /** PUT /ssh/{id}/: replaces an account key's text; false when there is no such key. */
  updateAccountSshKey(keyId: number, publicKey: string): boolean {
    const key = this.accountKeys.find(candidate => candidate.id === keyId);
    if (!key) return false;
    key.public_key = publicKey;
    this.options.account.ssh_key = this.accountKeys.at(-1)?.public_key ?? '';
    return true;
  }

  instanceSshKeys(id: number): readonly SimSshKey[] | undefined {
    return this.live.get(id)?.keys;
  }

  attachSshKey(id: number, publicKey: string): boolean {
    const instance = this.live.get(id);
    if (!instance) return false;
    // An account key keeps its id on the instance, so `vastai detach ssh ID KEY_ID` finds it by that id.
    const known = this.accountKeys.find(key => key.public_key === publicKey);
    instance.keys.push(known ? {...known} : this.newKey(publicKey));
    instance.host?.setAuthorizedKeys(instance.keys.map(key => key.public_key));
    return true;
  }

  detachSshKey(id: number, keyId: number): boolean {
    const instance = this.live.get(id);
    const index = instance?.keys.findIndex(key => key.id === keyId) ?? -1;
    if (!instance || index < 0) return false;
    instance.keys.splice(index, 1);
    instance.host?.setAuthorizedKeys(instance.keys.map(key => key.public_key));
    return true;
  }

  /** Bills every instance up to now; at a zero balance running instances are stopped, as Vast does. */
  accrue(): void {
    const now = this.time.now();
    for (const instance of this.live.values()) this.bill(instance, now);
    if (this.options.account.balance > 0) return;
    for (const instance of this.live.values()) {
      if (instance.actual === 'running') {
        instance.intended = 'stopped';
        this.halt(instance, 'stopped', 'Stopped: your account balance reached $0.00');
      }
    }
  }

  /** True when the account cannot pay for anything (balance $0 or less, billed up to now). */
  lowOnCredit(): boolean {
    this.accrue();
    return this.options.account.balance <= 0;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.time.clearTimeout(this.ticker);
    for (const id of [...this.live.keys()]) this.destroy(id);
    await Promise.all(this.closing);
  }

  private newKey(publicKey: string): SimSshKey {
    return {id: this.nextKeyId++, public_key: publicKey, created_at: new Date(this.time.now()).toISOString()};
  }

  /** Bills every BILLING_TICK_MS so the balance (and the zero-balance stop) follow time. */
  private startTicker(): void {
    // A test's manual clock bills on every read instead (a 250 ms ticker would make it crawl).
    if (this.ticker !== undefined || this.closed || this.time !== wallClock) return;
    const tick = (): void => {
      this.accrue();
      this.ticker = this.closed ? undefined : this.time.setTimeout(tick, BILLING_TICK_MS);
    };
    this.ticker = this.time.setTimeout(tick, BILLING_TICK_MS);
  }

  private beginLoading(instance: Instance): void {
    if (instance.pulled) {
      this.setStatus(instance, 'loading', `Starting container ${instance.imageUuid}`);
      this.after(instance, RESTART_DELAY_SIM_MS, () => void this.startContainer(instance));
      return;
    }
    const pullSimMs = ((instance.imageGb * 8000) / Math.max(1, Number(instance.offer.inet_down))) * 1000;
    instance.pull = {startMs: this.time.now(), realMs: pullSimMs / this.options.speed, chargedGb: 0};
    this.setStatus(instance, 'loading', `Pulling image ${instance.imageUuid}`);
    if (this.armed('pull-error')) return this.after(instance, pullSimMs * 0.4, () => this.inject(instance.id, 'pull-error'));
    const ociError = this.armed('oci-error');
    this.after(instance, pullSimMs * 0.85, () => (instance.statusMsg = `Extracting image layers of ${instance.imageUuid}`));
    this.after(instance, pullSimMs, () => {
      if (ociError) return void this.inject(instance.id, 'oci-error');
      this.bill(instance);
      instance.pull = undefined;
      instance.pulled = true;
      if (instance.intended === 'running') void this.startContainer(instance);
      else this.setStatus(instance, 'stopped', null);
    });
  }

  private async startContainer(instance: Instance): Promise<void> {
    const phase = instance.phase;
    if (!instance.launching) {
      instance.launching = this.launchHost(instance);
      this.track(instance.launching.then(() => undefined));
      this.time.hold?.(instance.launching);
    }
    try {
      instance.host = await instance.launching;
    } catch (error) {
      instance.launching = undefined;
      if (phase === instance.phase && !instance.destroyed) this.setStatus(instance, 'created', `Error: container failed to start: ${(error as Error).message}`);
      return;
    }
    if (phase !== instance.phase || instance.destroyed) return;
    instance.host.setSshRefusing(instance.refuseSsh);
    instance.host.setSshUnreachable(false);
    const runtype = instance.spec.imageRuntype.split(' ')[0];
    this.setStatus(instance, 'running', `success, running ${instance.imageUuid.replace(':', '_')}/${runtype}`);
    instance.runningSinceMs = this.time.now();
    // The onstart runs at every container start, and with it the watchdog.
    instance.autostop?.stop();
    const {host, comfy} = instance;
    instance.autostop = startSimAutostop({
      env: instance.spec.env,
      onstart: instance.spec.onstart ?? '',
      containerEnv: host.env,
      fs: host.fs,
      queueRemaining: () => comfy?.queueRemaining() ?? 0,
      time: this.time,
      cloudNow: () => this.cloudNowMs(),
      speed: this.options.speed,
    });
    if (this.armed('refuse-ssh')) this.inject(instance.id, 'refuse-ssh');
    const breakdown = (['exited', 'offline', 'unknown'] as const).find(kind => this.armed(kind));
    if (breakdown) this.after(instance, BREAKDOWN_AFTER_SIM_MS, () => this.inject(instance.id, breakdown));
  }

  /** Whether a fault armed by name strikes now. */
  private armed(name: FaultName): boolean {
    return this.options.faults?.take(name) ?? false;
  }

  private async launchHost(instance: Instance): Promise<InstanceHost> {
    const env = new Map(instance.spec.env);
    const openButtonToken = env.has('OPEN_BUTTON_TOKEN') ? instance.jupyterToken : '';
    const comfy = deferredComfyHandlers();
    const provisioned = instance.provisioning ? await buildProvisionedBoot(instance.provisioning, await loadBootScenario('happy')) : undefined;
    const {offer} = instance;
    const host = await startInstanceHost({
      instanceId: instance.id,
      scenario: instance.scenario,
      bootScenario: provisioned?.scenario,
      speed: this.options.speed,
      authorizedKeys: instance.keys.map(key => key.public_key),
      // Neither token set: the image generates one that only SSH or the logs reveal.
      webPassword: env.get('WEB_PASSWORD') || (openButtonToken ? '' : randomBytes(16).toString('base64url')),
      openButtonToken,
      webUsername: env.get('WEB_USERNAME') || undefined,
      bootDelayMs: 0,
      gpuName: offer.gpu_name,
      gpuRamMb: Number(offer.gpu_ram),
      env: containerEnv(instance.spec.env, instance.apiKey, provisioned?.comfyuiArgs),
      time: this.time,
      cloudNow: () => this.cloudNowMs(),
      ownTimestamps: true,
      comfyHandler: comfy.comfyHandler,
      comfyUpgrade: comfy.comfyUpgrade,
    });
    if (instance.destroyed || this.closed) {
      await host.close();
      throw new Error('the instance was destroyed while its container started');
    }
    instance.comfy = createSimComfy({
      fs: host.fs,
      speed: this.options.speed,
      gpuName: offer.gpu_name,
      gpu: {name: torchDeviceName(offer.gpu_name), vramMb: Number(offer.gpu_ram), dlperf: Number(offer.dlperf), totalFlops: Number(offer.total_flops), numGpus: Number(offer.num_gpus)},
      comfyuiArgs: () => host.env.COMFYUI_ARGS ?? '',
      listening: () => host.comfyListening(),
      time: this.time,
      faults: name => this.armed(name),
      // Model downloads bill as their bytes arrive (the replayed boot's wget bars, provision.sh's progress lines).
      onModelBytes: (file, bytes) => this.chargeModelBytes(instance, file, bytes),
      // Dies mid-job: a moment after the job starts, so the client has seen it running.
      onJobStart: () => {
        if (this.armed('instance-death')) this.after(instance, DEATH_AFTER_SIM_MS, () => this.inject(instance.id, 'death'));
      },
    });
    comfy.bind(instance.comfy);
    if (this.armed('provisioning-failure')) host.injectProvisioningFailure();
    host.events.on('ssh-connection', () => {
      if (this.armed('drop-ssh')) this.after(instance, DROP_SSH_AFTER_SIM_MS, () => this.inject(instance.id, 'drop-ssh'));
    });
    instance.onstart = startSimOnstart({env: instance.spec.env, host, comfy: instance.comfy, speed: this.options.speed});
    for (const name of HOST_EVENTS) {
      host.events.on(name, () => {
        this.events.emit(name, {instanceId: instance.id, atMs: this.time.now()});
      });
    }
    return host;
  }

  /** Stops the container side: timers, SSH, ComfyUI's memory (the gates keep answering: the host has no pause). */
  private halt(instance: Instance, actual: string, statusMsg: string | null): void {
    this.cancel(instance);
    instance.autostop?.stop();
    instance.autostop = undefined;
    instance.host?.dropSshConnections();
    // Nothing listens behind a stopped container's or a dead host's port: connections fail, keys are never asked for.
    instance.host?.setSshUnreachable(true);
    instance.comfy?.restart();
    this.setStatus(instance, actual, statusMsg);
  }

  private setStatus(instance: Instance, actual: string, statusMsg: string | null): void {
    this.bill(instance);
    instance.actual = actual;
    instance.statusMsg = statusMsg;
    if (actual !== 'running') instance.runningSinceMs = undefined;
  }

  private after(instance: Instance, simMs: number, action: () => void): void {
    const timer = this.time.setTimeout(() => {
      instance.timers.delete(timer);
      action();
    }, simMs / this.options.speed);
    instance.timers.add(timer);
  }

  private cancel(instance: Instance): void {
    this.bill(instance);
    for (const timer of instance.timers) this.time.clearTimeout(timer);
    instance.timers.clear();
    instance.pull = undefined;
    instance.phase++;
  }

  /**
   * GPU: dph_total minus the storage part while running. Storage: storage_total_cost in every state
   * but offline, from create until destroyed. Bandwidth: inet_down_cost per GB pulled so far.
   */
  private bill(instance: Instance, now = this.time.now()): void {
    const hours = ((now - instance.billedAtMs) / 3_600_000) * this.options.speed;
    instance.billedAtMs = now;
    const {dph_total, storage_total_cost} = instance.prices;
    const storage = instance.actual === 'offline' ? 0 : storage_total_cost * hours;
    const gpu = instance.actual === 'running' ? (dph_total - storage_total_cost) * hours : 0;
    instance.charges.storage += storage;
    instance.charges.gpu += gpu;
    this.charge(gpu + storage);
    const pull = instance.pull;
    if (pull) {
      const gb = instance.imageGb * Math.min(1, (now - pull.startMs) / Math.max(1, pull.realMs));
      this.chargeDownload(instance, gb - pull.chargedGb);
      pull.chargedGb = gb;
    }
  }

  /** A model download's bytes so far: bills what came since the last report (a file downloaded again after a restart counts once). */
  private chargeModelBytes(instance: Instance, file: string, bytes: number): void {
    const billed = instance.modelBytes.get(file) ?? 0;
    if (bytes <= billed) return;
    instance.modelBytes.set(file, bytes);
    this.chargeDownload(instance, (bytes - billed) / 1e9, true);
  }

  /** $/GB of inet_down_cost for `gb` downloaded by the instance. */
  private chargeDownload(instance: Instance, gb: number, provisioning = false): void {
    const dollars = gb * Number(instance.offer.inet_down_cost);
    instance.charges.bandwidth += dollars;
    instance.charges.downloadedGb += gb;
    if (provisioning) instance.charges.provisionedGb += gb;
    this.charge(dollars);
  }

  private charge(dollars: number): void {
    this.options.account.balance -= dollars;
    this.options.account.credit -= dollars;
  }

  private track(closing: Promise<void>): void {
    const tracked = closing.catch(() => {}).finally(() => this.closing.delete(tracked));
    this.closing.add(tracked);
  }
}
