// The node classes the simulated ComfyUI knows, in one table: inputs with the ranges and options of
// ComfyUI 0.3.64's nodes.py / comfy_extras, output types, output nodes, LoadImage's custom
// validation. Combo lists are read from the instance's fs. Used by validate.ts, executor.ts, object-info.ts.
import {createHash} from 'node:crypto';
import {inputImagePath, listInputImages} from './comfy-paths.js';
import {saveAnimatedPng, saveImage, previewImage} from './node-save.js';
import * as run from './node-runs.js';
import {CLIP_TYPES, MAX_RESOLUTION, SAMPLERS, SAVE_HIDDEN, SCHEDULERS, combo, float, int, link, models, node, prompt, seed, string} from './node-spec.js';
import type {NodeDef} from './node-types.js';
import {MORE_CORE_NODES} from './node-catalogue-core.js';
import {EXTRA_NODES} from './node-catalogue-extras.js';
import {pyStr} from './python-text.js';

export const NODE_CATALOGUE: Readonly<Record<string, NodeDef>> = {
  CheckpointLoaderSimple: node('Load Checkpoint', 'loaders', {
    description: 'Loads a diffusion model checkpoint, diffusion models are used to denoise latents.',
    required: {ckpt_name: combo(models('checkpoints'), {tooltip: 'The name of the checkpoint (model) to load.'})},
    outputs: ['MODEL', 'CLIP', 'VAE'],
    outputTooltips: ['The model used for denoising latents.', 'The CLIP model used for encoding text prompts.', 'The VAE model used for encoding and decoding images to and from latent space.'],
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
    outputTooltips: ['The decoded image.'],
    run: run.vaeDecode,
  }),
  CLIPTextEncode: node('CLIP Text Encode (Prompt)', 'conditioning', {
    description: 'Encodes a text prompt using a CLIP model into an embedding that can be used to guide the diffusion model towards generating specific images.',
    required: {text: prompt('The text to be encoded.'), clip: link('CLIP', {tooltip: 'The CLIP model used for encoding the text.'})},
    outputs: ['CONDITIONING'],
    outputTooltips: ['A conditioning containing the embedded text used to guide the diffusion model.'],
    run: run.clipTextEncode,
  }),
  KSampler: node('KSampler', 'sampling', {
    description: 'Uses the provided model, positive and negative conditioning to denoise the latent image.',
    required: {
      model: link('MODEL', {tooltip: 'The model used for denoising the input latent.'}),
      seed: seed('The random seed used for creating the noise.'),
      steps: int({default: 20, min: 1, max: 10_000, tooltip: 'The number of steps used in the denoising process.'}),
      cfg: float({default: 8.0, min: 0.0, max: 100.0, step: 0.1, round: 0.01, tooltip: 'The Classifier-Free Guidance scale balances creativity and adherence to the prompt. Higher values result in images more closely matching the prompt however too high values will negatively impact quality.'}),
      sampler_name: combo(SAMPLERS, {tooltip: 'The algorithm used when sampling, this can affect the quality, speed, and style of the generated output.'}),
      scheduler: combo(SCHEDULERS, {tooltip: 'The scheduler controls how noise is gradually removed to form the image.'}),
      positive: link('CONDITIONING', {tooltip: 'The conditioning describing the attributes you want to include in the image.'}),
      negative: link('CONDITIONING', {tooltip: 'The conditioning describing the attributes you want to exclude from the image.'}),
      latent_image: link('LATENT', {tooltip: 'The latent image to denoise.'}),
      denoise: float({default: 1.0, min: 0.0, max: 1.0, step: 0.01, tooltip: 'The amount of denoising applied, lower values will maintain the structure of the initial image allowing for image to image sampling.'}),
    },
    outputs: ['LATENT'],
    outputTooltips: ['The denoised latent.'],
    run: run.kSampler,
  }),
  EmptyLatentImage: node('Empty Latent Image', 'latent', {
    description: 'Create a new batch of empty latent images to be denoised via sampling.',
    required: {
      width: int({default: 512, min: 16, max: MAX_RESOLUTION, step: 8, tooltip: 'The width of the latent images in pixels.'}),
      height: int({default: 512, min: 16, max: MAX_RESOLUTION, step: 8, tooltip: 'The height of the latent images in pixels.'}),
      batch_size: int({default: 1, min: 1, max: 4096, tooltip: 'The number of latent images in the batch.'}),
    },
    outputs: ['LATENT'],
    outputTooltips: ['The empty latent image batch.'],
    run: run.emptyLatentImage,
  }),
  RepeatLatentBatch: node('Repeat Latent Batch', 'latent/batch', {required: {samples: link('LATENT'), amount: int({default: 1, min: 1, max: 64})}, outputs: ['LATENT'], run: run.repeatLatentBatch}),
  SaveImage: node('Save Image', 'image', {
    description: 'Saves the input images to your ComfyUI output directory.',
    required: {
      images: link('IMAGE', {tooltip: 'The images to save.'}),
      filename_prefix: string({default: 'ComfyUI', tooltip: 'The prefix for the file to save. This may include formatting information such as %date:yyyy-MM-dd% or %Empty Latent Image.width% to include values from nodes.'}),
    },
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

/** Every node class the simulated ComfyUI knows: the table above, the rest of nodes.py, the common comfy_extras and SaveImageWebsocket. */
const ALL_NODES: Readonly<Record<string, NodeDef>> = {...NODE_CATALOGUE, ...MORE_CORE_NODES, ...EXTRA_NODES};

export function nodeDef(classType: string): NodeDef | undefined {
  return Object.hasOwn(ALL_NODES, classType) ? ALL_NODES[classType] : undefined;
}

export function nodeClasses(): string[] {
  return Object.keys(ALL_NODES);
}
