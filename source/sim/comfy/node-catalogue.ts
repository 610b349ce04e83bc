// The node classes the simulated ComfyUI knows, in one table: inputs with the ranges and options of
// ComfyUI 0.3.64's nodes.py / comfy_extras, output types, output nodes, LoadImage's custom
// validation. Combo lists are read from the instance's fs. Used by validate.ts, executor.ts, object-info.ts.
import {createHash} from 'node:crypto';
import {inputImagePath, listInputImages} from './comfy-paths.js';
import {listModels} from './models.js';
import {saveAnimatedPng, saveImage, previewImage} from './node-save.js';
import * as run from './node-runs.js';
import type {InputOptions, InputSpec, NodeDef, NodeEnv} from './node-types.js';
import {pyStr} from './python-text.js';

const MAX_RESOLUTION = 16_384;
const KSAMPLER_NAMES = [
  'euler', 'euler_cfg_pp', 'euler_ancestral', 'euler_ancestral_cfg_pp', 'heun', 'heunpp2', 'dpm_2', 'dpm_2_ancestral', 'lms', 'dpm_fast',
  'dpm_adaptive', 'dpmpp_2s_ancestral', 'dpmpp_2s_ancestral_cfg_pp', 'dpmpp_sde', 'dpmpp_sde_gpu', 'dpmpp_2m', 'dpmpp_2m_cfg_pp',
  'dpmpp_2m_sde', 'dpmpp_2m_sde_gpu', 'dpmpp_2m_sde_heun', 'dpmpp_2m_sde_heun_gpu', 'dpmpp_3m_sde', 'dpmpp_3m_sde_gpu', 'ddpm', 'lcm',
  'ipndm', 'ipndm_v', 'deis', 'res_multistep', 'res_multistep_cfg_pp', 'res_multistep_ancestral', 'res_multistep_ancestral_cfg_pp',
  'gradient_estimation', 'gradient_estimation_cfg_pp', 'er_sde', 'seeds_2', 'seeds_3', 'sa_solver', 'sa_solver_pece',
];
const SAMPLERS = [...KSAMPLER_NAMES, 'ddim', 'uni_pc', 'uni_pc_bh2'];
const SCHEDULERS = ['simple', 'sgm_uniform', 'karras', 'exponential', 'ddim_uniform', 'beta', 'normal', 'linear_quadratic', 'kl_optimal'];
const CLIP_TYPES = ['stable_diffusion', 'stable_cascade', 'sd3', 'stable_audio', 'mochi', 'ltxv', 'pixart', 'cosmos', 'lumina2', 'wan', 'hidream', 'chroma', 'ace', 'omnigen2', 'qwen_image', 'hunyuan_image'];
const SAVE_HIDDEN = {prompt: 'PROMPT', extra_pnginfo: 'EXTRA_PNGINFO'};

const int = (options: InputOptions): InputSpec => ({type: 'INT', options});
const float = (options: InputOptions): InputSpec => ({type: 'FLOAT', options});
const string = (options?: InputOptions): InputSpec => ({type: 'STRING', options});
const link = (linkType: string, options?: InputOptions): InputSpec => ({type: 'LINK', linkType, options});
const combo = (choices: readonly string[] | ((env: NodeEnv) => string[]), options?: InputOptions): InputSpec => ({
  type: 'COMBO',
  choices: typeof choices === 'function' ? choices : () => [...choices],
  options,
});
const models = (folder: string) => (env: NodeEnv): string[] => listModels(env.fs, folder) ?? [];

/** One node of the table; display name, category and description as /object_info shows them. */
function node(displayName: string, category: string, def: Omit<NodeDef, 'displayName' | 'category' | 'description' | 'pythonModule'> & Partial<NodeDef>): NodeDef {
  return {displayName, category, description: '', pythonModule: 'nodes', ...def};
}

export const NODE_CATALOGUE: Readonly<Record<string, NodeDef>> = {
  CheckpointLoaderSimple: node('Load Checkpoint', 'loaders', {
    description: 'Loads a diffusion model checkpoint, diffusion models are used to denoise latents.',
    required: {ckpt_name: combo(models('checkpoints'), {tooltip: 'The name of the checkpoint (model) to load.'})},
    outputs: ['MODEL', 'CLIP', 'VAE'],
    run: run.loader('ckpt_name', ['MODEL', 'CLIP', 'VAE'], 2600),
  }),
  LoadImage: node('Load Image', 'image', {
    required: {image: combo((env) => listInputImages(env.fs), {image_upload: true})},
    outputs: ['IMAGE', 'MASK'],
    validate: {
      inputs: ['image'],
      check: (inputs, env) => (env.fs.stat(inputImagePath(pyStr(inputs.image)))?.kind === 'file' ? true : `Invalid image file: ${pyStr(inputs.image)}`),
    },
    isChanged: (inputs, env) => createHash('sha256').update(env.fs.read(inputImagePath(pyStr(inputs.image))) ?? '').digest('hex'),
    run: run.loadImage,
  }),
  VAEEncode: node('VAE Encode', 'latent', {required: {pixels: link('IMAGE'), vae: link('VAE')}, outputs: ['LATENT'], run: run.vaeEncode}),
  VAEDecode: node('VAE Decode', 'latent', {
    description: 'Decodes latent images back into pixel space images.',
    required: {samples: link('LATENT', {tooltip: 'The latent to be decoded.'}), vae: link('VAE', {tooltip: 'The VAE model used for decoding the latent.'})},
    outputs: ['IMAGE'],
    run: run.vaeDecode,
  }),
  CLIPTextEncode: node('CLIP Text Encode (Prompt)', 'conditioning', {
    description: 'Encodes a text prompt using a CLIP model into an embedding that can be used to guide the diffusion model towards generating specific images.',
    required: {text: string({multiline: true, dynamicPrompts: true, tooltip: 'The text to be encoded.'}), clip: link('CLIP', {tooltip: 'The CLIP model used for encoding the text.'})},
    outputs: ['CONDITIONING'],
    run: run.clipTextEncode,
  }),
  KSampler: node('KSampler', 'sampling', {
    description: 'Uses the provided model, positive and negative conditioning to denoise the latent image.',
    required: {
      model: link('MODEL'),
      seed: int({default: 0, min: 0, max: 2 ** 64 - 1, control_after_generate: true}),
      steps: int({default: 20, min: 1, max: 10_000}),
      cfg: float({default: 8.0, min: 0.0, max: 100.0, step: 0.1, round: 0.01}),
      sampler_name: combo(SAMPLERS),
      scheduler: combo(SCHEDULERS),
      positive: link('CONDITIONING'),
      negative: link('CONDITIONING'),
      latent_image: link('LATENT'),
      denoise: float({default: 1.0, min: 0.0, max: 1.0, step: 0.01}),
    },
    outputs: ['LATENT'],
    run: run.kSampler,
  }),
  EmptyLatentImage: node('Empty Latent Image', 'latent', {
    description: 'Create a new batch of empty latent images to be denoised via sampling.',
    required: {
      width: int({default: 512, min: 16, max: MAX_RESOLUTION, step: 8}),
      height: int({default: 512, min: 16, max: MAX_RESOLUTION, step: 8}),
      batch_size: int({default: 1, min: 1, max: 4096}),
    },
    outputs: ['LATENT'],
    run: run.emptyLatentImage,
  }),
  RepeatLatentBatch: node('Repeat Latent Batch', 'latent/batch', {required: {samples: link('LATENT'), amount: int({default: 1, min: 1, max: 64})}, outputs: ['LATENT'], run: run.repeatLatentBatch}),
  SaveImage: node('Save Image', 'image', {
    description: 'Saves the input images to your ComfyUI output directory.',
    required: {images: link('IMAGE', {tooltip: 'The images to save.'}), filename_prefix: string({default: 'ComfyUI'})},
    hidden: SAVE_HIDDEN,
    outputs: [],
    outputNode: true,
    run: saveImage,
  }),
  PreviewImage: node('Preview Image', 'image', {
    description: 'Saves the input images to your ComfyUI output directory.',
    required: {images: link('IMAGE')},
    hidden: SAVE_HIDDEN,
    outputs: [],
    outputNode: true,
    run: previewImage,
  }),
  SaveAnimatedPNG: node('SaveAnimatedPNG', 'image/animation', {
    pythonModule: 'comfy_extras.nodes_images',
    required: {
      images: link('IMAGE'),
      filename_prefix: string({default: 'ComfyUI'}),
      fps: float({default: 6.0, min: 0.01, max: 1000.0, step: 0.01}),
      compress_level: int({default: 4, min: 0, max: 9}),
    },
    hidden: SAVE_HIDDEN,
    outputs: [],
    outputNode: true,
    run: saveAnimatedPng,
  }),
  ImageScale: node('Upscale Image', 'image/upscaling', {
    required: {
      image: link('IMAGE'),
      upscale_method: combo(['nearest-exact', 'bilinear', 'area', 'bicubic', 'lanczos']),
      width: int({default: 512, min: 0, max: MAX_RESOLUTION, step: 1}),
      height: int({default: 512, min: 0, max: MAX_RESOLUTION, step: 1}),
      crop: combo(['disabled', 'center']),
    },
    outputs: ['IMAGE'],
    run: run.imageScale,
  }),
  ImageInvert: node('Invert Image', 'image', {required: {image: link('IMAGE')}, outputs: ['IMAGE'], run: run.imageInvert}),
  UNETLoader: node('Load Diffusion Model', 'advanced/loaders', {
    required: {unet_name: combo(models('diffusion_models')), weight_dtype: combo(['default', 'fp8_e4m3fn', 'fp8_e4m3fn_fast', 'fp8_e5m2'])},
    outputs: ['MODEL'],
    run: run.loader('unet_name', ['MODEL'], 4200),
  }),
  CLIPLoader: node('Load CLIP', 'advanced/loaders', {
    required: {clip_name: combo(models('text_encoders')), type: combo(CLIP_TYPES)},
    optional: {device: combo(['default', 'cpu'], {advanced: true})},
    outputs: ['CLIP'],
    run: run.loader('clip_name', ['CLIP'], 1800),
  }),
  VAELoader: node('Load VAE', 'loaders', {required: {vae_name: combo(models('vae'))}, outputs: ['VAE'], run: run.loader('vae_name', ['VAE'], 350)}),
  CLIPVisionLoader: node('Load CLIP Vision', 'loaders', {required: {clip_name: combo(models('clip_vision'))}, outputs: ['CLIP_VISION'], run: run.loader('clip_name', ['CLIP_VISION'], 500)}),
  CLIPVisionEncode: node('CLIP Vision Encode', 'conditioning', {
    required: {clip_vision: link('CLIP_VISION'), image: link('IMAGE'), crop: combo(['center', 'none'])},
    outputs: ['CLIP_VISION_OUTPUT'],
    run: run.clipVisionEncode,
  }),
  WanImageToVideo: node('WanImageToVideo', 'conditioning/video_models', {
    pythonModule: 'comfy_extras.nodes_wan',
    required: {
      positive: link('CONDITIONING'),
      negative: link('CONDITIONING'),
      vae: link('VAE'),
      width: int({default: 832, min: 16, max: MAX_RESOLUTION, step: 16}),
      height: int({default: 480, min: 16, max: MAX_RESOLUTION, step: 16}),
      length: int({default: 81, min: 1, max: MAX_RESOLUTION, step: 4}),
      batch_size: int({default: 1, min: 1, max: 4096}),
    },
    optional: {clip_vision_output: link('CLIP_VISION_OUTPUT'), start_image: link('IMAGE')},
    outputs: ['CONDITIONING', 'CONDITIONING', 'LATENT'],
    outputNames: ['positive', 'negative', 'latent'],
    run: run.wanImageToVideo,
  }),
};

export function nodeDef(classType: string): NodeDef | undefined {
  return Object.hasOwn(NODE_CATALOGUE, classType) ? NODE_CATALOGUE[classType] : undefined;
}
