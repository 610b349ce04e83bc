// Reaching an instance from outside: parsing the instance JSON at the boundary, then the SSH
// endpoint (direct first, else proxy with vast-cli's +1 for jupyter) and the portal URLs.
import {describe, expect, it} from 'vitest';
import {portalUrls, sshEndpoint} from '../../source/core/instances/endpoints.js';
import {parseInstance} from '../../source/core/vast/instances-api.js';

/** A running jupyter_direct instance as the v0 list shows it. */
function rawInstance(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 4242,
    machine_id: 77,
    label: 'vastdeck:abc',
    actual_status: 'running',
    intended_status: 'running',
    cur_state: 'running',
    status_msg: 'success, running vastai/comfyui/jupyter',
    image_uuid: 'vastai/comfyui:v0.8.2-cuda-12.9-py312',
    image_runtype: 'jupyter jupyter_direc ssh_direc ssh_proxy',
    gpu_name: 'RTX 4090',
    num_gpus: 1,
    dph_base: 0.4,
    dph_total: 0.43,
    disk_space: 60,
    inet_down: 800,
    inet_down_cost: 0.004,
    geolocation: ' Oregon, US',
    public_ipaddr: '203.0.113.7\n',
    ports: {
      '22/tcp': [{HostIp: '0.0.0.0', HostPort: '41022'}],
      '8188/tcp': [{HostIp: '0.0.0.0', HostPort: '41188'}],
      '1111/tcp': [{HostIp: '0.0.0.0', HostPort: '41111'}],
    },
    ssh_host: 'ssh5.vast.ai',
    ssh_port: 31_000,
    jupyter_token: 'a'.repeat(64),
    start_date: 1_760_000_000.5,
    compute_cap: 890,
    ...overrides,
  };
}

describe('parseInstance', () => {
  it('trims the IP, turns HostPort strings into numbers and reads the proxy and token', () => {
    const instance = parseInstance(rawInstance());
    expect(instance).toMatchObject({
      id: 4242,
      machineId: 77,
      label: 'vastdeck:abc',
      actualStatus: 'running',
      publicIp: '203.0.113.7',
      sshHost: 'ssh5.vast.ai',
      sshPort: 31_000,
      jupyterToken: 'a'.repeat(64),
      geolocation: 'Oregon, US',
      startDateSec: 1_760_000_000.5,
      uptimeMins: null,
      inetUpCostPerGb: 0,
      computeCap: 890,
      diskGb: 60,
    });
    expect(instance.ports['8188/tcp']).toEqual([{hostIp: '0.0.0.0', hostPort: 41_188}]);
  });

  it('derives storage $/h from storage_total_cost, else dph_total - dph_base', () => {
    expect(parseInstance(rawInstance({storage_total_cost: 0.02})).storageCostPerHour).toBe(0.02);
    expect(parseInstance(rawInstance()).storageCostPerHour).toBeCloseTo(0.03, 10);
  });

  it('reads a loading instance: null status, no IP, ports null or an int list', () => {
    const loading = parseInstance(rawInstance({actual_status: null, public_ipaddr: null, ports: null, jupyter_token: undefined}));
    expect(loading).toMatchObject({actualStatus: null, publicIp: null, ports: {}, jupyterToken: null});
    expect(parseInstance(rawInstance({ports: [22, 8188]})).ports).toEqual({});
  });

  it('refuses an instance without an id', () => {
    expect(() => parseInstance({label: 'x'})).toThrow(/no valid id/);
  });
});

describe('sshEndpoint', () => {
  it('prefers the direct 22/tcp mapping on the public IP', () => {
    expect(sshEndpoint(parseInstance(rawInstance()))).toEqual({host: '203.0.113.7', port: 41_022, via: 'direct'});
  });

  it('falls back to the proxy, one port up for jupyter runtypes', () => {
    const ports = {'8188/tcp': [{HostIp: '0.0.0.0', HostPort: '41188'}]};
    expect(sshEndpoint(parseInstance(rawInstance({ports})))).toEqual({host: 'ssh5.vast.ai', port: 31_001, via: 'proxy'});
    expect(sshEndpoint(parseInstance(rawInstance({ports, image_runtype: 'ssh ssh_direc ssh_proxy'})))).toEqual({host: 'ssh5.vast.ai', port: 31_000, via: 'proxy'});
  });

  it('has no endpoint before either exists', () => {
    expect(sshEndpoint(parseInstance(rawInstance({ports: null, ssh_host: null, ssh_port: null})))).toBeUndefined();
  });
});

describe('portalUrls', () => {
  it('points at the external ports of 8188 and 1111', () => {
    expect(portalUrls(parseInstance(rawInstance()))).toEqual({comfyui: 'http://203.0.113.7:41188', instancePortal: 'http://203.0.113.7:41111'});
  });

  it('is empty until the instance has an IP and mappings', () => {
    expect(portalUrls(parseInstance(rawInstance({public_ipaddr: '', ports: null})))).toEqual({});
  });
});
