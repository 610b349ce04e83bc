// What answers behind a simulated instance's gates when no richer simulator is plugged in: a
// minimal ComfyUI 0.3.64 (GET /system_stats and /api/system_stats, 404 otherwise) and the Instance
// Portal's GET /health and /get-applications. Called by instance-host.ts.
import type {ServerResponse} from 'node:http';
import type {AppRequestHandler} from './portal-gate.js';

/** The production ComfyUI template's PORTAL_CONFIG (docs/vast-api.md §7.6). */
export const COMFY_PORTAL_CONFIG =
	'localhost:1111:11111:/:Instance Portal|localhost:8188:18188:/:ComfyUI|localhost:8288:18288:/docs:API Wrapper|' +
	'localhost:8080:18080:/:Jupyter|localhost:8080:8080:/terminals/1:Jupyter Terminal|localhost:8384:18384:/:Syncthing';
/** The image's default COMFYUI_ARGS (comfyui/Dockerfile), used when the create request sets none. */
export const COMFYUI_ARGS = '--disable-auto-launch --port 18188 --enable-cors-header';

const MIB = 1024 * 1024;

function sendJson(res: ServerResponse, status: number, body: unknown): void {
	const text = JSON.stringify(body);
	res.writeHead(status, {'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text)});
	res.end(text);
}

function notFound(res: ServerResponse): void {
	res.writeHead(404, {'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': '14'});
	res.end('404: Not Found');
}

export interface ComfyDevice {
	/** torch's name for the GPU, e.g. 'NVIDIA GeForce RTX 4090'. */
	name: string;
	/** Vast's gpu_ram (MiB per GPU). */
	vramMb?: number;
}

/** GET /system_stats as ComfyUI 0.3.64 answers it: the rented GPU and the COMFYUI_ARGS it started with. */
export function systemStats(device: ComfyDevice, comfyuiArgs: string): Record<string, unknown> {
	const vramTotal = (device.vramMb ?? 24_564) * MIB; // the fixture's "Total VRAM 24564 MB"
	const deviceName = device.name;
	return {
		system: {
			os: 'posix',
			ram_total: 128_613 * MIB,
			ram_free: 119_872 * MIB,
			comfyui_version: '0.3.64',
			required_frontend_version: '1.27.10',
			installed_templates_version: '0.1.94',
			required_templates_version: '0.1.94',
			python_version: '3.12.11 | packaged by conda-forge | (main, Jun  4 2025, 14:45:31) [GCC 13.3.0]',
			pytorch_version: '2.10.0+cu128',
			embedded_python: false,
			argv: ['main.py', ...comfyuiArgs.split(/\s+/).filter(Boolean)],
		},
		devices: [
			{
				name: `cuda:0 ${deviceName} : cudaMallocAsync`,
				type: 'cuda',
				index: 0,
				vram_total: vramTotal,
				vram_free: vramTotal - 412 * MIB,
				torch_vram_total: 0,
				torch_vram_free: 0,
			},
		],
	};
}

/** A minimal ComfyUI (system_stats only) for hosts started without the full simulator. */
export function minimalComfyHandler(device: ComfyDevice, comfyuiArgs: () => string = () => COMFYUI_ARGS): AppRequestHandler {
	return (req, res) => {
		const path = (req.url ?? '/').split('?')[0];
		if (req.method === 'GET' && (path === '/system_stats' || path === '/api/system_stats')) sendJson(res, 200, systemStats(device, comfyuiArgs()));
		else notFound(res);
	};
}

export function instancePortalHandler(): AppRequestHandler {
	const applications = Object.fromEntries(
		COMFY_PORTAL_CONFIG.split('|').map((entry) => {
			const [hostname = '', external = '', internal = '', openPath = '', name = ''] = entry.split(':');
			return [name, {hostname, external_port: Number(external), internal_port: Number(internal), open_path: openPath, name}];
		}),
	);
	return (req, res) => {
		const path = (req.url ?? '/').split('?')[0];
		if (req.method === 'GET' && path === '/health') sendJson(res, 200, {status: 'ok'});
		else if (req.method === 'GET' && path === '/get-applications') sendJson(res, 200, applications);
		else notFound(res);
	};
}
