// The HTTP routes of the simulated ComfyUI (server.py of 0.3.64), each also under /api: prompt,
// queue, interrupt, history, upload and view, system_stats, features, object_info, models,
// embeddings, free; 404/405 and 500 as aiohttp answers them. Called by comfy-server.ts.
import {randomUUID} from 'node:crypto';
import type {IncomingMessage, ServerResponse} from 'node:http';
import type {AppRequestHandler} from '../portal-gate.js';
import type {VirtualFs} from '../virtual-fs.js';
import {uploadImage, uploadMask, viewFile, type FileAnswer} from './comfy-files.js';
import {BodyTooLarge, readBody, sendBytes, sendEmpty, sendError, sendJson, withCors} from './http-io.js';
import {listModels, modelFolderNames, safetensorsMetadata} from './models.js';
import {multipartBoundary, parseMultipart} from './multipart.js';
import {allNodeInfo, nodeInfo} from './object-info.js';
import type {PromptQueue, QueueItem} from './prompt-queue.js';
import {PyError, pyFloatOf, pyInt, pyStr} from './python-text.js';
import {validatePrompt} from './validate.js';
import {SERVER_FEATURES} from './ws-hub.js';

/** What the routes need from the server. */
export interface RouteHost {
  fs: VirtualFs;
  queue: PromptQueue;
  /** The running prompt's id, if any. */
  runningPromptId(): string | undefined;
  /** POST /prompt's counter: the next number (consumed by every submission without `number`). */
  takeNumber(): number;
  enqueue(item: QueueItem): void;
  interrupt(): void;
  free(unloadModels: boolean, freeMemory: boolean): void;
  systemStats: AppRequestHandler;
}

interface Call {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  param: string;
}

type Route = {method: 'GET' | 'POST'; path: string; run: (call: Call, host: RouteHost) => void | Promise<void>};

/** Keys the real server moves out of extra_data before queueing (SENSITIVE_EXTRA_DATA_KEYS). */
const SENSITIVE_KEYS = ['auth_token_comfy_org', 'api_key_comfy_org'];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** request.json(): invalid JSON throws (aiohttp answers 500). */
async function readJson(req: IncomingMessage): Promise<unknown> {
  return JSON.parse((await readBody(req)).toString('utf8')) as unknown;
}

function answerFile(res: ServerResponse, answer: FileAnswer): void {
  if (answer.status === 500) sendError(res, 500);
  else if (answer.json !== undefined) sendJson(res, answer.status, answer.json);
  else if (answer.body) sendBytes(res, answer.body, answer.headers ?? {});
  else sendEmpty(res, answer.status);
}

async function postPrompt({req, res}: Call, host: RouteHost): Promise<void> {
  const body = await readJson(req);
  if (!isObject(body)) throw new PyError('TypeError', 'the body is not a JSON object');
  const number = Object.hasOwn(body, 'number') ? pyFloatOf(body.number) : host.takeNumber() * (body.front ? -1 : 1);
  if (!Object.hasOwn(body, 'prompt')) {
    sendJson(res, 400, {error: {type: 'no_prompt', message: 'No prompt provided', details: 'No prompt provided', extra_info: {}}, node_errors: {}});
    return;
  }
  if (!isObject(body.prompt)) throw new PyError('TypeError', 'the prompt is not a JSON object');
  const promptId = body.prompt_id === undefined ? randomUUID() : pyStr(body.prompt_id);
  const targets = Array.isArray(body.partial_execution_targets) ? body.partial_execution_targets : null;
  const validation = validatePrompt(body.prompt, targets, {fs: host.fs});
  const extraData = isObject(body.extra_data) ? body.extra_data : {};
  if (Object.hasOwn(body, 'client_id')) extraData.client_id = body.client_id;
  if (!validation.ok) {
    sendJson(res, 400, {error: validation.error, node_errors: validation.nodeErrors});
    return;
  }
  for (const key of SENSITIVE_KEYS) delete extraData[key];
  host.enqueue({number, promptId, prompt: body.prompt, extraData, outputs: validation.outputs});
  sendJson(res, 200, {prompt_id: promptId, number, node_errors: validation.nodeErrors});
}

async function postInterrupt({req, res}: Call, host: RouteHost): Promise<void> {
  let body: unknown = {};
  try {
    body = await readJson(req);
  } catch (error) {
    if (error instanceof BodyTooLarge) throw error;
  }
  const promptId = isObject(body) ? body.prompt_id : undefined;
  if (!promptId || promptId === host.runningPromptId()) host.interrupt();
  sendEmpty(res);
}

async function postQueue({req, res}: Call, host: RouteHost): Promise<void> {
  const body = await readJson(req);
  if (isObject(body) && body.clear) host.queue.clearPending();
  if (isObject(body) && Array.isArray(body.delete)) host.queue.deletePending(body.delete);
  sendEmpty(res);
}

async function postHistory({req, res}: Call, host: RouteHost): Promise<void> {
  const body = await readJson(req);
  if (isObject(body) && body.clear) host.queue.clearHistory();
  if (isObject(body) && Array.isArray(body.delete)) host.queue.deleteHistory(body.delete);
  sendEmpty(res);
}

function getHistory({res, url}: Call, host: RouteHost): void {
  const maxItems = url.searchParams.get('max_items');
  const offset = url.searchParams.get('offset');
  sendJson(res, 200, host.queue.window(maxItems === null ? undefined : pyInt(maxItems), offset === null ? undefined : pyInt(offset)));
}

function postUpload(upload: typeof uploadImage) {
  return async ({req, res}: Call, host: RouteHost): Promise<void> => {
    const body = await readBody(req);
    const boundary = multipartBoundary(req.headers['content-type']);
    if (!boundary) {
      sendEmpty(res, 400);
      return;
    }
    const parts = parseMultipart(body, boundary);
    if (!parts) throw new PyError('ValueError', 'malformed multipart body');
    answerFile(res, upload(host.fs, parts));
  };
}

/** The frontend's index page (the comfyui-frontend-package serves a bundled app; this is its stand-in). */
const INDEX_HTML = '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="UTF-8"><title>ComfyUI</title></head>\n<body class="litegraph grid"><div id="vue-app"></div></body>\n</html>\n';
/** /extensions: the JavaScript of the web extensions (ComfyUI-Manager is baked into Vast's image). */
const EXTENSIONS = ['/extensions/ComfyUI-Manager/comfyui-manager.js', '/extensions/ComfyUI-Manager/common.js', '/extensions/ComfyUI-Manager/components-manager.js', '/extensions/ComfyUI-Manager/snapshot.js'];

function getIndex({res}: Call): void {
  const body = Buffer.from(INDEX_HTML);
  res.writeHead(200, {'Content-Type': 'text/html', 'Content-Length': body.length, 'Cache-Control': 'no-cache'});
  res.end(body);
}

/** GET /view_metadata/{folder}?filename=: a safetensors file's __metadata__, else 404. */
function getViewMetadata({res, url, param}: Call, host: RouteHost): void {
  const filename = url.searchParams.get('filename');
  const metadata = filename ? safetensorsMetadata(host.fs, param, filename) : undefined;
  if (metadata) sendJson(res, 200, metadata);
  else sendEmpty(res, 404);
}

async function postFree({req, res}: Call, host: RouteHost): Promise<void> {
  const body = await readJson(req);
  if (isObject(body)) host.free(Boolean(body.unload_models), Boolean(body.free_memory));
  sendEmpty(res);
}

const ROUTES: Route[] = [
  {method: 'POST', path: '/prompt', run: postPrompt},
  {method: 'GET', path: '/prompt', run: ({res}, host) => sendJson(res, 200, {exec_info: {queue_remaining: host.queue.remaining()}})},
  {method: 'GET', path: '/queue', run: ({res}, host) => sendJson(res, 200, host.queue.view())},
  {method: 'POST', path: '/queue', run: postQueue},
  {method: 'POST', path: '/interrupt', run: postInterrupt},
  {method: 'GET', path: '/history', run: getHistory},
  {method: 'GET', path: '/history/{}', run: ({res, param}, host) => sendJson(res, 200, host.queue.entry(param))},
  {method: 'POST', path: '/history', run: postHistory},
  {method: 'POST', path: '/upload/image', run: postUpload(uploadImage)},
  {method: 'POST', path: '/upload/mask', run: postUpload(uploadMask)},
  {method: 'GET', path: '/', run: getIndex},
  {method: 'GET', path: '/extensions', run: ({res}) => sendJson(res, 200, EXTENSIONS)},
  {method: 'GET', path: '/view_metadata/{}', run: getViewMetadata},
  {method: 'GET', path: '/view', run: ({res, url}, host) => answerFile(res, viewFile(host.fs, url.searchParams))},
  {method: 'GET', path: '/system_stats', run: ({req, res}, host) => host.systemStats(req, res)},
  {method: 'GET', path: '/features', run: ({res}) => sendJson(res, 200, SERVER_FEATURES)},
  {method: 'GET', path: '/object_info', run: ({res}, host) => sendJson(res, 200, allNodeInfo({fs: host.fs}))},
  {
    method: 'GET',
    path: '/object_info/{}',
    run: ({res, param}, host) => {
      const info = nodeInfo(param, {fs: host.fs});
      sendJson(res, 200, info ? {[param]: info} : {});
    },
  },
  {method: 'GET', path: '/models', run: ({res}) => sendJson(res, 200, modelFolderNames())},
  {
    method: 'GET',
    path: '/models/{}',
    run: ({res, param}, host) => {
      const files = listModels(host.fs, param);
      if (files) sendJson(res, 200, files);
      else sendEmpty(res, 404);
    },
  },
  {method: 'GET', path: '/embeddings', run: ({res}, host) => sendJson(res, 200, (listModels(host.fs, 'embeddings') ?? []).map((file) => file.replace(/\.[^./]*$/, '')))},
  {method: 'POST', path: '/free', run: postFree},
];

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The route and its {param} for a path ('/api' prefix stripped), or undefined. */
function match(path: string): Array<{route: Route; param: string}> {
  const bare = path.startsWith('/api/') ? path.slice(4) : path;
  return ROUTES.flatMap((route) => {
    if (route.path === bare) return [{route, param: ''}];
    const stem = route.path.slice(0, -2);
    if (!route.path.endsWith('{}') || !bare.startsWith(stem)) return [];
    const rest = bare.slice(stem.length);
    return rest && !rest.includes('/') ? [{route, param: safeDecode(rest)}] : [];
  });
}

export function comfyRequestHandler(host: RouteHost): AppRequestHandler {
  return (req, res) => {
    withCors(res);
    if (req.method === 'OPTIONS') return sendEmpty(res);
    const url = new URL(req.url ?? '/', 'http://comfy.invalid');
    const candidates = match(url.pathname);
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    const found = candidates.find(({route}) => route.method === method);
    if (!found) {
      req.resume();
      if (candidates.length === 0) return sendError(res, 404);
      return sendError(res, 405, {Allow: [...new Set(candidates.map(({route}) => route.method))].join(',')});
    }
    Promise.resolve()
      .then(() => found.route.run({req, res, url, param: found.param}, host))
      .catch((error: unknown) => sendError(res, error instanceof BodyTooLarge ? 413 : 500));
  };
}
