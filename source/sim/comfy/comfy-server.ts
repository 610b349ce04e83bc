// The simulated ComfyUI of one instance, served behind its portal gate: HTTP routes, the /ws socket,
// a queue with one worker, history, and fault hooks (drop a client's socket, stall a job's events,
// fail the next job at a node, restart). Created per instance by instances.ts, and by tests.
import type {AppRequestHandler, AppUpgradeHandler} from '../portal-gate.js';
import {COMFYUI_ARGS, minimalComfyHandler} from '../instance-apps.js';
import {torchDeviceName} from '../instance-host.js';
import type {VirtualFs} from '../virtual-fs.js';
import {TYPE_DIRS} from './comfy-paths.js';
import {comfyRequestHandler, type RouteHost} from './comfy-routes.js';
import {Abandoned, Executor, type InjectedFailure} from './executor.js';
import type {PromptGraph} from './execution-order.js';
import {watchModelDownloads} from './models.js';
import {PromptQueue, type QueueItem} from './prompt-queue.js';
import {gpuStepFactor, SimClock, type TimeSource} from './sim-clock.js';
import {SocketHub} from './ws-hub.js';

export type {InjectedFailure} from './executor.js';

export interface SimComfyOptions {
  /** The instance's filesystem: models/, input/, output/ and temp/ under /workspace/ComfyUI. */
  fs: VirtualFs;
  /** Time compression: a 60 ms sampler step takes 60 / speed real ms. */
  speed: number;
  /** Vast's gpu_name (e.g. 'RTX 4090'): step times (core/offers/gpu-speed.ts) and system_stats' device. */
  gpuName?: string;
  /** The rented GPU as system_stats shows it, and the offer's dlperf/flops for GPUs the speed table lacks. */
  gpu?: {name: string; vramMb?: number; dlperf?: number; totalFlops?: number; numGpus?: number};
  /** The COMFYUI_ARGS ComfyUI started with (system_stats' argv). */
  comfyuiArgs?: () => string;
  /** Whether ComfyUI accepts connections (the instance host's boot decides). */
  listening: () => boolean;
  /** Where time comes from (the wall clock unless a test drives it). */
  time?: TimeSource;
  /** Faults armed by name (fault-plan.ts): asked as each job starts. */
  faults?: (name: 'ws-drop' | 'ws-silence' | 'node-failure' | 'comfy-restart') => boolean;
  /** Called as each job starts (the instance's death fault waits for this). */
  onJobStart?: (promptId: string) => void;
  /** The bytes of each model the boot's wget has finished downloading (the instance bills them). */
  onModelBytes?: (file: string, bytes: number) => void;
}

export interface SimComfy {
  handleRequest: AppRequestHandler;
  handleUpgrade: AppUpgradeHandler;
  /** Fault: cuts the WebSocket(s) of `clientId` (all when absent) mid-job; jobs go on. Returns how many. */
  dropWebSocket(clientId?: string): number;
  /** Fault: the next job to start sends no WebSocket message at all (history is still written). */
  stallNextJob(): void;
  /** Fault: the next job to start fails with execution_error at a node (the first to run by default). */
  failNextJob(failure?: InjectedFailure): void;
  /** Fault: ComfyUI restarts: queue, history, caches and temp/ are wiped, every socket is cut. */
  restart(): void;
  /** The prompt_id of the job running now, if any (what GET /queue's queue_running shows). */
  runningPromptId(): string | undefined;
  /** Jobs running or waiting, as GET /queue shows them (0 while ComfyUI does not answer). */
  queueRemaining(): number;
  close(): Promise<void>;
}

const APP_DOWN = '502 Bad Gateway';

/** The value of a ComfyUI command-line option, or undefined when it is not given. */
function optionOf(args: string, name: string): string | undefined {
  const words = args.split(/\s+/);
  const at = words.indexOf(name);
  return at >= 0 ? words[at + 1] : undefined;
}

/**
 * The long side of latent previews: --preview-size (cli_args.py defaults it to 512), or undefined
 * while --preview-method is none (its default) and ComfyUI sends no previews.
 */
function previewSizeOf(args: string): number | undefined {
  if ((optionOf(args, '--preview-method') ?? 'none') === 'none') return undefined;
  const size = Number.parseInt(optionOf(args, '--preview-size') ?? '', 10);
  return size > 0 ? size : 512;
}

class ComfyServer implements SimComfy, RouteHost {
  readonly fs: VirtualFs;
  readonly queue: PromptQueue;
  readonly systemStats: AppRequestHandler;
  private readonly hub: SocketHub;
  private readonly executor: Executor;
  private readonly clock: SimClock;
  private readonly routes: AppRequestHandler;
  private readonly unwatchModels: () => void;
  private number = 0;
  private pumping = false;
  private closed = false;
  private pendingFree = {unloadModels: false, freeMemory: false};
  private nextFailure: InjectedFailure | undefined;
  private stallNext = false;

  constructor(private readonly options: SimComfyOptions) {
    this.fs = options.fs;
    this.clock = new SimClock(options.speed, options.time);
    this.hub = new SocketHub({greeting: (sid) => this.greeting(sid)});
    this.queue = new PromptQueue(() => this.hub.send('status', {status: {exec_info: {queue_remaining: this.queue.remaining()}}}, null));
    this.executor = new Executor({
      fs: this.fs,
      clock: this.clock,
      gpuFactor: gpuStepFactor(options.gpuName, options.gpu),
      send: (type, data, sid) => this.hub.send(type, data, sid),
      sendImage: (image, format, metadata, sid) => this.hub.sendImage(image, format, metadata, sid),
      previewSize: () => previewSizeOf(options.comfyuiArgs?.() ?? ''),
    });
    this.systemStats = minimalComfyHandler(options.gpu ?? {name: torchDeviceName(options.gpuName)}, options.comfyuiArgs ?? (() => COMFYUI_ARGS));
    this.unwatchModels = watchModelDownloads(this.fs, options.onModelBytes);
    this.routes = comfyRequestHandler(this);
  }

  readonly handleRequest: AppRequestHandler = (req, res) => {
    if (this.closed || !this.options.listening()) {
      req.resume();
      res.writeHead(502, {'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': APP_DOWN.length}).end(APP_DOWN);
      return;
    }
    this.routes(req, res);
  };

  readonly handleUpgrade: AppUpgradeHandler = (req, socket, head) => {
    if (this.closed || !this.options.listening()) {
      socket.end('HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.hub.handleUpgrade(req, socket, head);
  };

  runningPromptId(): string | undefined {
    return this.queue.running?.promptId;
  }

  queueRemaining(): number {
    return this.closed || !this.options.listening() ? 0 : this.queue.remaining();
  }

  takeNumber(): number {
    return this.number++;
  }

  enqueue(item: QueueItem): void {
    this.queue.put(item);
    setImmediate(() => void this.pump());
  }

  interrupt(): void {
    this.executor.interrupt();
  }

  /** The worker applies /free between jobs (at once when idle). */
  free(unloadModels: boolean, freeMemory: boolean): void {
    this.pendingFree = {unloadModels: this.pendingFree.unloadModels || unloadModels, freeMemory: this.pendingFree.freeMemory || freeMemory};
    if (!this.queue.running) this.applyFree();
  }

  dropWebSocket(clientId?: string): number {
    return this.hub.drop(clientId);
  }

  stallNextJob(): void {
    this.stallNext = true;
  }

  failNextJob(failure: InjectedFailure = {}): void {
    this.nextFailure = failure;
  }

  restart(): void {
    this.executor.reset();
    this.clock.cancelAll();
    this.queue.wipe();
    this.number = 0;
    this.nextFailure = undefined;
    this.stallNext = false;
    this.hub.muted = false;
    this.removeTree(TYPE_DIRS.temp);
    this.hub.drop();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.executor.reset();
    this.clock.cancelAll();
    this.unwatchModels();
    await this.hub.close();
  }

  private greeting(sid: string): Array<{type: string; data: Record<string, unknown>}> {
    const greeting = [{type: 'status', data: {status: {exec_info: {queue_remaining: this.queue.remaining()}}, sid} as Record<string, unknown>}];
    if (this.executor.clientId === sid && this.executor.lastNodeId !== null) greeting.push({type: 'executing', data: {node: this.executor.lastNodeId}});
    return greeting;
  }

  private async pump(): Promise<void> {
    if (this.pumping || this.closed) return;
    this.pumping = true;
    try {
      for (let item = this.queue.take(); item && !this.closed; item = this.queue.take()) await this.runJob(item);
    } finally {
      this.pumping = false;
    }
  }

  private async runJob(item: QueueItem): Promise<void> {
    const armed = this.options.faults ?? (() => false);
    const failure = this.nextFailure ?? (armed('node-failure') ? {} : undefined);
    const stalled = this.stallNext || armed('ws-silence');
    this.nextFailure = undefined;
    this.stallNext = false;
    this.hub.muted = stalled;
    const clientId = typeof item.extraData.client_id === 'string' ? item.extraData.client_id : undefined;
    if (armed('ws-drop')) setImmediate(() => this.hub.drop(clientId));
    if (armed('comfy-restart')) setImmediate(() => this.restart());
    this.options.onJobStart?.(item.promptId);
    try {
      const outcome = await this.executor.execute({promptId: item.promptId, prompt: item.prompt as PromptGraph, extraData: item.extraData, outputs: item.outputs}, failure);
      this.queue.done(item, outcome);
      const clientId = item.extraData.client_id;
      if (typeof clientId === 'string') this.hub.send('executing', {node: null, prompt_id: item.promptId}, clientId);
      this.applyFree();
    } catch (error) {
      if (!(error instanceof Abandoned)) throw error;
    } finally {
      if (stalled) this.hub.muted = false;
    }
  }

  private applyFree(): void {
    this.executor.free(this.pendingFree.unloadModels, this.pendingFree.freeMemory);
    this.pendingFree = {unloadModels: false, freeMemory: false};
  }

  /** cleanup_temp(): every file under `dir`. */
  private removeTree(dir: string): void {
    for (const name of this.fs.list(dir) ?? []) {
      const path = `${dir}/${name}`;
      if (this.fs.stat(path)?.kind === 'directory') this.removeTree(path);
      else this.fs.remove(path);
    }
  }
}

export function createSimComfy(options: SimComfyOptions): SimComfy {
  return new ComfyServer(options);
}

/**
 * comfyHandler/comfyUpgrade for startInstanceHost, forwarding to a ComfyUI bound once the host (and
 * so its fs) exists; 502 before that.
 */
export function deferredComfyHandlers(): {comfyHandler: AppRequestHandler; comfyUpgrade: AppUpgradeHandler; bind(comfy: SimComfy): void} {
  let bound: SimComfy | undefined;
  return {
    comfyHandler: (req, res) => {
      if (bound) return bound.handleRequest(req, res);
      req.resume();
      res.writeHead(502, {'Content-Length': APP_DOWN.length}).end(APP_DOWN);
    },
    comfyUpgrade: (req, socket, head) => {
      if (bound) return bound.handleUpgrade(req, socket, head);
      socket.end('HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    },
    bind: (comfy) => {
      bound = comfy;
    },
  };
}
