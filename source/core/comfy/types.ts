// Shapes shared by the ComfyUI client, the workflow binder, the generation queue and the Queue
// pane. The wire formats they come from are in docs/comfyui-api.md.

/** An API-format workflow ("Export (API)"): node id → {class_type, inputs, _meta?}. */
export type ApiWorkflow = Record<string, {class_type: string; inputs: Record<string, unknown>; _meta?: {title?: string}}>;

/** The job fields a manifest can bind to node inputs. */
export type JobField = 'image' | 'prompt' | 'negative' | 'seed' | 'steps' | 'cfg' | 'denoise' | 'width' | 'height' | 'frames';

/** A job's settings as the user gave them (the manifest fills the rest from its defaults). */
export interface JobSpec {
  /** Workflow name (a file in workflows/ or the user's workflows folder). */
  workflow: string;
  /** Local path of the input image. */
  imagePath: string;
  prompt: string;
  negative?: string;
  seed?: number;
  steps?: number;
  cfg?: number;
  denoise?: number;
  width?: number;
  height?: number;
  frames?: number;
}

/** One output file as ComfyUI's history lists it. */
export interface OutputFile {
  filename: string;
  subfolder: string;
  type: 'output' | 'temp' | 'input';
  /** The output node that produced it. */
  nodeId: string;
}

/** Live progress of a running prompt, from the WebSocket (or history polling). */
export interface PromptProgress {
  /** The node executing now, and its title from the workflow's _meta when present. */
  nodeId?: string;
  nodeTitle?: string;
  /** Sampler steps of the current node. */
  value?: number;
  max?: number;
  /** Nodes finished out of the nodes to run (cached ones count as finished). */
  nodesDone: number;
  nodesTotal: number;
}

export type JobState = 'queued' | 'uploading' | 'running' | 'downloading' | 'done' | 'failed' | 'cancelled';

/** The outcome of a prompt, read from GET /history/{prompt_id} once it is there. */
export interface HistoryResult {
  status: 'success' | 'error' | 'interrupted';
  /** Every file the output nodes listed (images, gifs, videos, animated files), in history order. */
  outputs: OutputFile[];
  /** Present when status is 'error': the node that failed and ComfyUI's exception message. */
  error?: {nodeId: string; nodeType: string; message: string};
}

/** POST /upload/image's answer: put `subfolder/name` (or `name`) into LoadImage. */
export interface UploadedImage {
  name: string;
  subfolder: string;
  type: 'input' | 'temp' | 'output';
}

export type WorkflowKind = 'image' | 'video';

/** Where a job field goes in the workflow, and what values it takes. */
export interface FieldBinding {
  node: string;
  input: string;
  /** 'random' only for seed; absent means "keep the workflow's own value". */
  default?: string | number;
  min?: number;
  max?: number;
}

/** What one generation of a workflow needs, from its manifest's "requirements" (the cost model's input). */
export interface WorkflowRequirements {
  /** GB of models the instance downloads for this workflow. */
  modelGb: number;
  /** GB of GPU memory one generation needs; offers with less are excluded. */
  minVramGb: number;
  /** Seconds one generation takes on referenceGpu, once the models are loaded. */
  secondsPerGeneration: number;
  /** A GPU in the speed table (source/core/offers/gpu-speed.ts); default RTX 4090. */
  referenceGpu: string;
}

/** A workflow file plus its manifest, checked against each other. */
export interface LoadedWorkflow {
  name: string;
  description: string;
  kind: WorkflowKind;
  workflow: ApiWorkflow;
  /** Only the fields the manifest binds. */
  fields: Partial<Record<JobField, FieldBinding>>;
  /** 'shipped' = workflows/ in the package; 'user' = $XDG_CONFIG_HOME/vastdeck/workflows/. */
  source: 'shipped' | 'user';
  manifestPath: string;
  /** From the manifest; absent when it declares none. */
  requirements?: WorkflowRequirements;
}

/** One entry of the workflow list; a broken manifest is listed with its problem, not hidden. */
export type WorkflowInfo =
  | {ok: true; name: string; description: string; kind: WorkflowKind; source: 'shipped' | 'user'; manifestPath: string}
  | {ok: false; name: string; problem: string; source: 'shipped' | 'user'; manifestPath: string};
