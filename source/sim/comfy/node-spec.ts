// The little language the node tables are written in: input specs as INPUT_TYPES() declares them
// (INT/FLOAT/STRING/BOOLEAN widgets, combos, links), the sampler and scheduler lists of
// comfy/samplers.py, and node(). Used by node-catalogue.ts and the tables it merges.
import {listModels} from './models.js';
import type {InputOptions, InputSpec, NodeDef, NodeEnv} from './node-types.js';
import {U64_MAX} from './py-json.js';

export const MAX_RESOLUTION = 16_384;
const KSAMPLER_NAMES = [
  'euler', 'euler_cfg_pp', 'euler_ancestral', 'euler_ancestral_cfg_pp', 'heun', 'heunpp2', 'dpm_2', 'dpm_2_ancestral', 'lms', 'dpm_fast',
  'dpm_adaptive', 'dpmpp_2s_ancestral', 'dpmpp_2s_ancestral_cfg_pp', 'dpmpp_sde', 'dpmpp_sde_gpu', 'dpmpp_2m', 'dpmpp_2m_cfg_pp',
  'dpmpp_2m_sde', 'dpmpp_2m_sde_gpu', 'dpmpp_2m_sde_heun', 'dpmpp_2m_sde_heun_gpu', 'dpmpp_3m_sde', 'dpmpp_3m_sde_gpu', 'ddpm', 'lcm',
  'ipndm', 'ipndm_v', 'deis', 'res_multistep', 'res_multistep_cfg_pp', 'res_multistep_ancestral', 'res_multistep_ancestral_cfg_pp',
  'gradient_estimation', 'gradient_estimation_cfg_pp', 'er_sde', 'seeds_2', 'seeds_3', 'sa_solver', 'sa_solver_pece',
];
export const SAMPLERS = [...KSAMPLER_NAMES, 'ddim', 'uni_pc', 'uni_pc_bh2'];
export const SCHEDULERS = ['simple', 'sgm_uniform', 'karras', 'exponential', 'ddim_uniform', 'beta', 'normal', 'linear_quadratic', 'kl_optimal'];
export const CLIP_TYPES = ['stable_diffusion', 'stable_cascade', 'sd3', 'stable_audio', 'mochi', 'ltxv', 'pixart', 'cosmos', 'lumina2', 'wan', 'hidream', 'chroma', 'ace', 'omnigen2', 'qwen_image', 'hunyuan_image'];
export const SAVE_HIDDEN = {prompt: 'PROMPT', extra_pnginfo: 'EXTRA_PNGINFO'};
export const UPSCALE_METHODS = ['nearest-exact', 'bilinear', 'area', 'bicubic', 'lanczos'];

export const int = (options: InputOptions): InputSpec => ({type: 'INT', options});
export const float = (options: InputOptions): InputSpec => ({type: 'FLOAT', options});
export const string = (options?: InputOptions): InputSpec => ({type: 'STRING', options});
export const boolean = (options: InputOptions): InputSpec => ({type: 'BOOLEAN', options});
export const link = (linkType: string, options?: InputOptions): InputSpec => ({type: 'LINK', linkType, options});
export const combo = (choices: readonly string[] | ((env: NodeEnv) => string[]), options?: InputOptions): InputSpec => ({
  type: 'COMBO',
  choices: typeof choices === 'function' ? choices : () => [...choices],
  options,
});
export const models = (folder: string) => (env: NodeEnv): string[] => listModels(env.fs, folder) ?? [];
/** A seed widget: 0 … 2^64 − 1, printed exactly as Python does. */
export const seed = (tooltip?: string): InputSpec => int({default: 0, min: 0, max: U64_MAX, control_after_generate: true, ...(tooltip ? {tooltip} : {})});
/** A multiline prompt text widget. */
export const prompt = (tooltip?: string): InputSpec => string({multiline: true, dynamicPrompts: true, ...(tooltip ? {tooltip} : {})});

/** One node of a table; display name, category and description as /object_info shows them. */
export function node(displayName: string, category: string, def: Omit<NodeDef, 'displayName' | 'category' | 'description' | 'pythonModule'> & Partial<NodeDef>): NodeDef {
  return {displayName, category, description: '', pythonModule: 'nodes', ...def};
}
