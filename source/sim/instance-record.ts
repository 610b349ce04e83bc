// An instance as the Vast API shows it (docs/vast-api.md §4.2): the offer's machine fields, the
// disk-priced costs, the status triple, its SSH proxy from the create on, and — only while running —
// Docker-style ports onto the real loopback ports of its instance host. Called by instances.ts for
// the list and by-id answers.
import type {CreateSpec} from './instance-create.js';
import type {InstanceHost} from './instance-host.js';
import type {OfferPrices, SimOffer} from './market.js';

/** Quirks of the real API a client must survive, switched on per instance. */
export type InstanceQuirk = 'ip-newline' | 'uptime-null' | 'hostport-int';
export const INSTANCE_QUIRKS: readonly InstanceQuirk[] = ['ip-newline', 'uptime-null', 'hostport-int'];

/** The state renderInstance reads. */
export interface InstanceView {
  id: number;
  offer: SimOffer;
  prices: OfferPrices;
  spec: CreateSpec;
  /** The image as pulled, e.g. 'vastai/comfyui:v0.3.64-cuda-12.9-py312'. */
  imageUuid: string;
  jupyterToken: string;
  actual: string | null;
  intended: 'running' | 'stopped';
  statusMsg: string | null;
  createdSec: number;
  runningSinceMs?: number;
  /** The loopback port of its SSH proxy (ssh-proxy.ts), bound at the create. */
  sshProxyPort: number;
  host?: InstanceHost;
  quirks: ReadonlySet<InstanceQuirk>;
}

/**
 * `ports` is present only while running (vast.py's ssh-url reads `instance.get("ports", {})`, which
 * a null would crash). `ssh_host`/`ssh_port` name the proxy from the create on, as on Vast, so
 * `vastai ssh-url` prints the proxy while the instance loads and the direct mapping once it runs
 * (when it has one); a jupyter runtype shows the port one below, since clients add 1. Quirks: 'ip-newline' adds the trailing newline the real API once sent in
 * public_ipaddr, 'uptime-null' keeps uptime_mins null even while running, 'hostport-int' sends
 * HostPort as a number instead of the real string.
 */
/** `nowMs` is the time source's now (for durations × speed); `cloudNowMs` the cloud's clock (for timestamps). */
export function renderInstance(instance: InstanceView, speed: number, nowMs: number, cloudNowMs = nowMs): Record<string, unknown> {
  const {offer, spec, host, quirks} = instance;
  const running = instance.actual === 'running' && host !== undefined;
  const ports = running ? dockerPorts(host, spec, quirks.has('hostport-int')) : undefined;
  const hostPorts = Object.values(ports ?? {}).map(mapping => Number(mapping[0]?.HostPort));
  const sshPort = spec.imageRuntype.includes('jupyter') ? instance.sshProxyPort - 1 : instance.sshProxyPort;
  const uptimeMin = instance.runningSinceMs === undefined || quirks.has('uptime-null') ? null : ((nowMs - instance.runningSinceMs) * speed) / 60_000;
  return {
    ...offer,
    ...instance.prices,
    id: instance.id,
    actual_status: instance.actual,
    intended_status: instance.intended,
    cur_state: instance.intended,
    next_state: instance.intended,
    status_msg: instance.statusMsg,
    label: spec.label,
    image_uuid: instance.imageUuid,
    image_args: spec.args,
    image_runtype: spec.imageRuntype,
    template_id: null,
    template_hash_id: spec.templateHashId,
    template_name: null,
    extra_env: spec.env,
    onstart: spec.onstart,
    jupyter_token: instance.jupyterToken,
    ssh_host: '127.0.0.1',
    ssh_port: sshPort,
    ssh_idx: '1',
    machine_dir_ssh_port: host?.sshPort ?? null,
    public_ipaddr: running ? `127.0.0.1${quirks.has('ip-newline') ? '\n' : ''}` : null,
    local_ipaddrs: '172.17.0.2 \n',
    ...(ports ? {ports} : {}),
    direct_port_start: hostPorts.length > 0 ? Math.min(...hostPorts) : -1,
    direct_port_end: hostPorts.length > 0 ? Math.max(...hostPorts) : -1,
    start_date: instance.createdSec,
    uptime_mins: uptimeMin,
    duration: cloudNowMs / 1000 - instance.createdSec,
    disk_space: spec.disk,
    // GB [INFERRED]: the unpacked image, plus the models once ComfyUI is up; -1 until running (Vast QA tool).
    disk_usage: running ? diskUsedGb(host) : -1,
    disk_util: running ? diskUsedGb(host) / spec.disk : 0,
    gpu_totalram: offer.gpu_total_ram,
    gpu_util: running ? 0 : null,
    gpu_temp: running ? 36 : null,
    cpu_util: running ? 0.03 : 0,
    mem_usage: running ? 2.1 : 0,
    mem_limit: Math.round(Number(offer.cpu_ram) * Number(offer.gpu_frac)) / 1024,
    vmem_usage: running ? 0.4 : 0,
    country_code: offer.geolocation.slice(-2),
    rented: true,
    credit_balance: null,
    credit_discount: null,
    volume_info: [],
    client_run_time: 1.1,
  };
}

function diskUsedGb(host: InstanceHost): number {
  return host.comfyListening() ? 31.6 : 24.8;
}

type DockerPorts = Record<string, [{HostIp: string; HostPort: string | number}]>;

/** 22 for direct SSH, then every requested internal port: 8188 → the ComfyUI gate, others → the portal gate. */
function dockerPorts(host: InstanceHost, spec: CreateSpec, numericHostPort: boolean): DockerPorts {
  const ports: DockerPorts = {};
  const map = (internal: number, external: number) => (ports[`${internal}/tcp`] = [{HostIp: '0.0.0.0', HostPort: numericHostPort ? external : String(external)}]);
  if (/(ssh|jupyter)_direc/.test(spec.imageRuntype)) map(22, host.sshPort);
  for (const internal of spec.internalPorts) {
    if (internal !== 22) map(internal, internal === 8188 ? host.portalPort : host.instancePortalPort);
  }
  return ports;
}
