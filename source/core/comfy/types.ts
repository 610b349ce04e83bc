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
