// Where to reach a running instance from outside: its SSH endpoint (direct 22/tcp mapping first,
// else Vast's SSH proxy, following vast-cli's ssh-url rule) and its ComfyUI / Instance Portal
// URLs (docs/vast-api.md §6.2, §7.6). Pure functions over a parsed Instance.
import type {Instance} from './types.js';

export interface SshEndpoint {
  host: string;
  port: number;
  via: 'direct' | 'proxy';
}

export interface PortalUrls {
  /** ComfyUI behind the portal's auth gate (external port of 8188/tcp). */
  comfyui?: string;
  /** The Instance Portal (external port of 1111/tcp). */
  instancePortal?: string;
}

/**
 * The direct mapping of 22/tcp on the public IP needs no account key on Vast's proxy, so it wins.
 * The proxy listens on ssh_port, or ssh_port + 1 for jupyter runtypes (vast-cli's rule, PR #85).
 * Vast shows the proxy from the create on, so an endpoint is only an address, not a sign that an
 * SSH server answers there: callers wait for actual_status `running` before relying on it.
 */
export function sshEndpoint(instance: Instance): SshEndpoint | undefined {
  const direct = instance.ports['22/tcp']?.[0];
  if (direct && instance.publicIp) return {host: instance.publicIp, port: direct.hostPort, via: 'direct'};
  if (instance.sshHost && instance.sshPort !== null && instance.sshPort > 0) {
    const port = instance.sshPort + (instance.imageRuntype?.includes('jupyter') ? 1 : 0);
    return {host: instance.sshHost, port, via: 'proxy'};
  }
  return undefined;
}

/** http://<public ip>:<external port> for ComfyUI and the Instance Portal, once they are mapped. */
export function portalUrls(instance: Instance): PortalUrls {
  const urls: PortalUrls = {};
  const comfyui = urlFor(instance, '8188/tcp');
  const instancePortal = urlFor(instance, '1111/tcp');
  if (comfyui) urls.comfyui = comfyui;
  if (instancePortal) urls.instancePortal = instancePortal;
  return urls;
}

function urlFor(instance: Instance, port: string): string | undefined {
  const mapping = instance.ports[port]?.[0];
  if (!mapping || !instance.publicIp) return undefined;
  const host = instance.publicIp.includes(':') ? `[${instance.publicIp}]` : instance.publicIp;
  return `http://${host}:${mapping.hostPort}`;
}
