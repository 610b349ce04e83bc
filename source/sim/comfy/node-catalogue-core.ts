// The rest of ComfyUI 0.3.64's nodes.py NODE_CLASS_MAPPINGS (node-catalogue.ts holds the ones with
// their own pixel work): inputs, ranges, categories and outputs as /object_info shows them, run by
// the generic behaviours of node-generic.ts. Merged into the catalogue by node-catalogue.ts.
import {createHash} from 'node:crypto';
import {TYPE_DIRS, inputImagePath, listInputImages} from './comfy-paths.js';
import {saveImagePath} from './node-save.js';
import {placeholderSafetensors} from './models.js';
import {advancedSampling, emptyImage, imageBatch, imageScaledBy, latentSized, loadImageMask, opaqueLoader, passThrough, samplerLike} from './node-generic.js';
import {loader, vaeDecode, vaeEncode} from './node-runs.js';
import {MAX_RESOLUTION, SAMPLERS, SAVE_HIDDEN, SCHEDULERS, UPSCALE_METHODS, boolean, combo, float, int, link, models, node, prompt, seed, string} from './node-spec.js';
import type {NodeDef, RunResult} from './node-types.js';
import {pyStr} from './python-text.js';

const LATENT_UPSCALE_METHODS = ['nearest-exact', 'bilinear', 'area', 'bicubic', 'bislerp'];
const DUAL_CLIP_TYPES = ['sdxl', 'sd3', 'flux', 'hunyuan_video', 'hidream', 'hunyuan_image', 'hunyuan_video_15', 'kandinsky5', 'kandinsky5_image'];
const area = (min: number) => int({default: min === 64 ? 64 : 0, min, max: MAX_RESOLUTION, step: 8});
const strength = (max = 10, step = 0.01) => float({default: 1.0, min: 0.0, max, step});
const percent = (value: number) => float({default: value, min: 0.0, max: 1.0, step: 0.001});
const checkImage = (name: string) => (inputs: Record<string, unknown>, env: {fs: {stat(path: string): {kind: string} | undefined}}): true | string =>
  env.fs.stat(inputImagePath(pyStr(inputs[name])))?.kind === 'file' ? true : `Invalid image file: ${pyStr(inputs[name])}`;

/** SaveLatent: a .latent file (safetensors) under output/, listed under `latents`. */
async function saveLatent(inputs: Record<string, unknown>, ctx: Parameters<NodeDef['run']>[1]): Promise<RunResult> {
  const {folder, stem, counter, subfolder} = saveImagePath(ctx.fs, 'output', pyStr(inputs.filename_prefix), 0, 0);
  const filename = `${stem}_${String(counter).padStart(5, '0')}_.latent`;
  await ctx.work(20);
  ctx.fs.write(`${folder}/${filename}`, placeholderSafetensors(filename));
  return {outputs: [], ui: {latents: [{filename, subfolder, type: 'output'}]}};
}

export const MORE_CORE_NODES: Readonly<Record<string, NodeDef>> = {
  CLIPSetLastLayer: node('CLIP Set Last Layer', 'conditioning', {
    required: {clip: link('CLIP'), stop_at_clip_layer: int({default: -1, min: -24, max: -1, step: 1})},
    outputs: ['CLIP'],
    run: passThrough(['CLIP']),
  }),
  VAEEncodeForInpaint: node('VAE Encode (for Inpainting)', 'latent/inpaint', {
    required: {pixels: link('IMAGE'), vae: link('VAE'), mask: link('MASK'), grow_mask_by: int({default: 6, min: 0, max: 64, step: 1})},
    outputs: ['LATENT'],
    run: latentSized((inputs) => {
      const image = inputs.pixels as {width: number; height: number; frames: unknown[]};
      return {width: image.width, height: image.height, batch: image.frames.length};
    }),
  }),
  CheckpointLoader: node('Load Checkpoint With Config (DEPRECATED)', 'advanced/loaders', {
    required: {config_name: combo(models('configs')), ckpt_name: combo(models('checkpoints'))},
    outputs: ['MODEL', 'CLIP', 'VAE'],
    deprecated: true,
    run: loader('ckpt_name', ['MODEL', 'CLIP', 'VAE'], 2600),
  }),
  DiffusersLoader: node('DiffusersLoader', 'advanced/loaders/deprecated', {
    required: {model_path: combo(models('diffusers'))},
    outputs: ['MODEL', 'CLIP', 'VAE'],
    run: loader('model_path', ['MODEL', 'CLIP', 'VAE'], 2600),
  }),
  unCLIPCheckpointLoader: node('unCLIPCheckpointLoader', 'loaders', {
    required: {ckpt_name: combo(models('checkpoints'))},
    outputs: ['MODEL', 'CLIP', 'VAE', 'CLIP_VISION'],
    run: loader('ckpt_name', ['MODEL', 'CLIP', 'VAE', 'CLIP_VISION'], 2600),
  }),
  LoraLoader: node('Load LoRA', 'loaders', {
    description: 'LoRAs are used to modify diffusion and CLIP models, altering the way in which latents are denoised such as applying styles. Multiple LoRA nodes can be linked together.',
    required: {
      model: link('MODEL', {tooltip: 'The diffusion model the LoRA will be applied to.'}),
      clip: link('CLIP', {tooltip: 'The CLIP model the LoRA will be applied to.'}),
      lora_name: combo(models('loras'), {tooltip: 'The name of the LoRA.'}),
      strength_model: float({default: 1.0, min: -100.0, max: 100.0, step: 0.01, tooltip: 'How strongly to modify the diffusion model. This value can be negative.'}),
      strength_clip: float({default: 1.0, min: -100.0, max: 100.0, step: 0.01, tooltip: 'How strongly to modify the CLIP model. This value can be negative.'}),
    },
    outputs: ['MODEL', 'CLIP'],
    outputTooltips: ['The modified diffusion model.', 'The modified CLIP model.'],
    run: passThrough(['MODEL', 'CLIP'], 400),
  }),
  LoraLoaderModelOnly: node('LoraLoaderModelOnly', 'loaders', {
    required: {model: link('MODEL'), lora_name: combo(models('loras')), strength_model: float({default: 1.0, min: -100.0, max: 100.0, step: 0.01})},
    outputs: ['MODEL'],
    run: passThrough(['MODEL'], 400),
  }),
  LatentUpscale: node('Upscale Latent', 'latent', {
    required: {samples: link('LATENT'), upscale_method: combo(LATENT_UPSCALE_METHODS), width: int({default: 512, min: 0, max: MAX_RESOLUTION, step: 8}), height: int({default: 512, min: 0, max: MAX_RESOLUTION, step: 8}), crop: combo(['disabled', 'center'])},
    outputs: ['LATENT'],
    run: latentSized((inputs, latent) => {
      const [width, height] = [Number(inputs.width), Number(inputs.height)];
      const source = latent ?? {width: 512, height: 512, batch: 1};
      return {width: width || Math.round((source.width * height) / source.height), height: height || Math.round((source.height * width) / source.width), batch: source.batch};
    }),
  }),
  LatentUpscaleBy: node('Upscale Latent By', 'latent', {
    required: {samples: link('LATENT'), upscale_method: combo(LATENT_UPSCALE_METHODS), scale_by: float({default: 1.5, min: 0.01, max: 8.0, step: 0.01})},
    outputs: ['LATENT'],
    run: latentSized((inputs, latent) => ({width: Math.round((latent?.width ?? 512) * Number(inputs.scale_by)), height: Math.round((latent?.height ?? 512) * Number(inputs.scale_by)), batch: latent?.batch ?? 1})),
  }),
  LatentFromBatch: node('Latent From Batch', 'latent/batch', {
    required: {samples: link('LATENT'), batch_index: int({default: 0, min: 0, max: 63}), length: int({default: 1, min: 1, max: 64})},
    outputs: ['LATENT'],
    run: latentSized((inputs, latent) => ({width: latent?.width ?? 512, height: latent?.height ?? 512, batch: Math.max(1, Math.min(Number(inputs.length), (latent?.batch ?? 1) - Number(inputs.batch_index)))})),
  }),
  LatentComposite: node('Latent Composite', 'latent', {
    required: {samples_to: link('LATENT'), samples_from: link('LATENT'), x: area(0), y: area(0), feather: area(0)},
    outputs: ['LATENT'],
    run: passThrough(['LATENT']),
  }),
  LatentBlend: node('Latent Blend', '_for_testing', {
    required: {samples1: link('LATENT'), samples2: link('LATENT'), blend_factor: float({default: 0.5, min: 0, max: 1, step: 0.01})},
    outputs: ['LATENT'],
    run: passThrough(['LATENT']),
  }),
  LatentRotate: node('Rotate Latent', 'latent/transform', {
    required: {samples: link('LATENT'), rotation: combo(['none', '90 degrees', '180 degrees', '270 degrees'])},
    outputs: ['LATENT'],
    run: latentSized((inputs, latent) => {
      const turned = inputs.rotation === '90 degrees' || inputs.rotation === '270 degrees';
      const [width, height] = [latent?.width ?? 512, latent?.height ?? 512];
      return {width: turned ? height : width, height: turned ? width : height, batch: latent?.batch ?? 1};
    }),
  }),
  LatentFlip: node('Flip Latent', 'latent/transform', {
    required: {samples: link('LATENT'), flip_method: combo(['x-axis: vertically', 'y-axis: horizontally'])},
    outputs: ['LATENT'],
    run: passThrough(['LATENT']),
  }),
  LatentCrop: node('Crop Latent', 'latent/transform', {
    required: {samples: link('LATENT'), width: int({default: 512, min: 64, max: MAX_RESOLUTION, step: 8}), height: int({default: 512, min: 64, max: MAX_RESOLUTION, step: 8}), x: area(0), y: area(0)},
    outputs: ['LATENT'],
    run: latentSized((inputs, latent) => ({width: Number(inputs.width), height: Number(inputs.height), batch: latent?.batch ?? 1})),
  }),
  SetLatentNoiseMask: node('Set Latent Noise Mask', 'latent/inpaint', {required: {samples: link('LATENT'), mask: link('MASK')}, outputs: ['LATENT'], run: passThrough(['LATENT'])}),
  LoadImageMask: node('Load Image (as Mask)', 'mask', {
    required: {image: combo((env) => listInputImages(env.fs), {image_upload: true}), channel: combo(['alpha', 'red', 'green', 'blue'])},
    outputs: ['MASK'],
    validate: {inputs: ['image'], check: checkImage('image')},
    isChanged: (inputs, env) => createHash('sha256').update(env.fs.read(inputImagePath(pyStr(inputs.image))) ?? '').digest('hex'),
    run: loadImageMask,
  }),
  ImageScaleBy: node('Upscale Image By', 'image/upscaling', {
    required: {image: link('IMAGE'), upscale_method: combo(UPSCALE_METHODS), scale_by: float({default: 1.0, min: 0.01, max: 8.0, step: 0.01})},
    outputs: ['IMAGE'],
    run: imageScaledBy((inputs) => Number(inputs.scale_by), (inputs) => pyStr(inputs.upscale_method)),
  }),
  ImageBatch: node('Batch Images', 'image', {required: {image1: link('IMAGE'), image2: link('IMAGE')}, outputs: ['IMAGE'], run: imageBatch}),
  ImagePadForOutpaint: node('Pad Image for Outpainting', 'image', {
    required: {image: link('IMAGE'), left: area(0), top: area(0), right: area(0), bottom: area(0), feathering: int({default: 40, min: 0, max: MAX_RESOLUTION, step: 1})},
    outputs: ['IMAGE', 'MASK'],
    run: passThrough(['IMAGE', 'MASK']),
  }),
  EmptyImage: node('EmptyImage', 'image', {
    required: {width: int({default: 512, min: 1, max: MAX_RESOLUTION, step: 1}), height: int({default: 512, min: 1, max: MAX_RESOLUTION, step: 1}), batch_size: int({default: 1, min: 1, max: 4096}), color: int({default: 0, min: 0, max: 0xffffff, step: 1, display: 'color'})},
    outputs: ['IMAGE'],
    run: emptyImage,
  }),
  ConditioningAverage: node('ConditioningAverage', 'conditioning', {required: {conditioning_to: link('CONDITIONING'), conditioning_from: link('CONDITIONING'), conditioning_to_strength: float({default: 1.0, min: 0.0, max: 1.0, step: 0.01})}, outputs: ['CONDITIONING'], run: passThrough(['CONDITIONING'])}),
  ConditioningCombine: node('Conditioning (Combine)', 'conditioning', {required: {conditioning_1: link('CONDITIONING'), conditioning_2: link('CONDITIONING')}, outputs: ['CONDITIONING'], run: passThrough(['CONDITIONING'])}),
  ConditioningConcat: node('Conditioning (Concat)', 'conditioning', {required: {conditioning_to: link('CONDITIONING'), conditioning_from: link('CONDITIONING')}, outputs: ['CONDITIONING'], run: passThrough(['CONDITIONING'])}),
  ConditioningSetArea: node('Conditioning (Set Area)', 'conditioning', {required: {conditioning: link('CONDITIONING'), width: area(64), height: area(64), x: area(0), y: area(0), strength: strength()}, outputs: ['CONDITIONING'], run: passThrough(['CONDITIONING'])}),
  ConditioningSetAreaPercentage: node('Conditioning (Set Area with Percentage)', 'conditioning', {
    required: {conditioning: link('CONDITIONING'), width: float({default: 1.0, min: 0, max: 1.0, step: 0.01}), height: float({default: 1.0, min: 0, max: 1.0, step: 0.01}), x: float({default: 0, min: 0, max: 1.0, step: 0.01}), y: float({default: 0, min: 0, max: 1.0, step: 0.01}), strength: strength()},
    outputs: ['CONDITIONING'],
    run: passThrough(['CONDITIONING']),
  }),
  ConditioningSetAreaStrength: node('ConditioningSetAreaStrength', 'conditioning', {required: {conditioning: link('CONDITIONING'), strength: strength()}, outputs: ['CONDITIONING'], run: passThrough(['CONDITIONING'])}),
  ConditioningSetMask: node('Conditioning (Set Mask)', 'conditioning', {required: {conditioning: link('CONDITIONING'), mask: link('MASK'), strength: strength(), set_cond_area: combo(['default', 'mask bounds'])}, outputs: ['CONDITIONING'], run: passThrough(['CONDITIONING'])}),
  ConditioningZeroOut: node('ConditioningZeroOut', 'advanced/conditioning', {required: {conditioning: link('CONDITIONING')}, outputs: ['CONDITIONING'], run: passThrough(['CONDITIONING'])}),
  ConditioningSetTimestepRange: node('ConditioningSetTimestepRange', 'advanced/conditioning', {required: {conditioning: link('CONDITIONING'), start: percent(0.0), end: percent(1.0)}, outputs: ['CONDITIONING'], run: passThrough(['CONDITIONING'])}),
  KSamplerAdvanced: node('KSampler (Advanced)', 'sampling', {
    required: {
      model: link('MODEL'),
      add_noise: combo(['enable', 'disable']),
      noise_seed: seed(),
      steps: int({default: 20, min: 1, max: 10_000}),
      cfg: float({default: 8.0, min: 0.0, max: 100.0, step: 0.1, round: 0.01}),
      sampler_name: combo(SAMPLERS),
      scheduler: combo(SCHEDULERS),
      positive: link('CONDITIONING'),
      negative: link('CONDITIONING'),
      latent_image: link('LATENT'),
      start_at_step: int({default: 0, min: 0, max: 10_000}),
      end_at_step: int({default: 10_000, min: 0, max: 10_000}),
      return_with_leftover_noise: combo(['disable', 'enable']),
    },
    outputs: ['LATENT'],
    run: async (inputs, ctx) => ({outputs: [(await samplerLike(advancedSampling)(inputs, ctx)).outputs[0]!]}),
  }),
  DualCLIPLoader: node('DualCLIPLoader', 'advanced/loaders', {
    description: '[Recipes]\n\nsdxl: clip-l, clip-g\nsd3: clip-l, clip-g / clip-l, t5 / clip-g, t5\nflux: clip-l, t5\nhidream: at least one of t5 or llama, recommended t5 and llama\nhunyuan_image: qwen2.5vl 7b and byt5 small',
    required: {clip_name1: combo(models('text_encoders')), clip_name2: combo(models('text_encoders')), type: combo(DUAL_CLIP_TYPES)},
    optional: {device: combo(['default', 'cpu'], {advanced: true})},
    outputs: ['CLIP'],
    run: loader('clip_name1', ['CLIP'], 2200),
  }),
  StyleModelLoader: node('Load Style Model', 'loaders', {required: {style_model_name: combo(models('style_models'))}, outputs: ['STYLE_MODEL'], run: opaqueLoader('style_model_name', 'STYLE_MODEL', 300)}),
  StyleModelApply: node('Apply Style Model', 'conditioning/style_model', {
    required: {conditioning: link('CONDITIONING'), style_model: link('STYLE_MODEL'), clip_vision_output: link('CLIP_VISION_OUTPUT'), strength: strength(10, 0.001), strength_type: combo(['multiply', 'attn_bias'])},
    outputs: ['CONDITIONING'],
    run: passThrough(['CONDITIONING']),
  }),
  unCLIPConditioning: node('unCLIPConditioning', 'conditioning', {
    required: {conditioning: link('CONDITIONING'), clip_vision_output: link('CLIP_VISION_OUTPUT'), strength: float({default: 1.0, min: -10.0, max: 10.0, step: 0.01}), noise_augmentation: float({default: 0.0, min: 0.0, max: 1.0, step: 0.01})},
    outputs: ['CONDITIONING'],
    run: passThrough(['CONDITIONING']),
  }),
  ControlNetLoader: node('Load ControlNet Model', 'loaders', {required: {control_net_name: combo(models('controlnet'))}, outputs: ['CONTROL_NET'], run: opaqueLoader('control_net_name', 'CONTROL_NET', 900)}),
  DiffControlNetLoader: node('Load ControlNet Model (diff)', 'loaders', {required: {model: link('MODEL'), control_net_name: combo(models('controlnet'))}, outputs: ['CONTROL_NET'], run: opaqueLoader('control_net_name', 'CONTROL_NET', 900)}),
  ControlNetApply: node('Apply ControlNet (OLD)', 'conditioning/controlnet', {
    required: {conditioning: link('CONDITIONING'), control_net: link('CONTROL_NET'), image: link('IMAGE'), strength: strength()},
    outputs: ['CONDITIONING'],
    deprecated: true,
    run: passThrough(['CONDITIONING']),
  }),
  ControlNetApplyAdvanced: node('Apply ControlNet', 'conditioning/controlnet', {
    required: {positive: link('CONDITIONING'), negative: link('CONDITIONING'), control_net: link('CONTROL_NET'), image: link('IMAGE'), strength: strength(), start_percent: percent(0.0), end_percent: percent(1.0)},
    optional: {vae: link('VAE')},
    outputs: ['CONDITIONING', 'CONDITIONING'],
    outputNames: ['positive', 'negative'],
    run: async (inputs, ctx) => {
      await ctx.work(30);
      return {outputs: [inputs.positive as never, inputs.negative as never]};
    },
  }),
  VAEDecodeTiled: node('VAE Decode (Tiled)', '_for_testing', {
    required: {samples: link('LATENT'), vae: link('VAE'), tile_size: int({default: 512, min: 64, max: 4096, step: 32}), overlap: int({default: 64, min: 0, max: 4096, step: 32}), temporal_size: int({default: 64, min: 8, max: 4096, step: 4, tooltip: 'Only used for video VAEs: Amount of frames to decode at a time.'}), temporal_overlap: int({default: 8, min: 4, max: 4096, step: 4, tooltip: 'Only used for video VAEs: Amount of frames to overlap.'})},
    outputs: ['IMAGE'],
    run: vaeDecode,
  }),
  VAEEncodeTiled: node('VAE Encode (Tiled)', '_for_testing', {
    required: {pixels: link('IMAGE'), vae: link('VAE'), tile_size: int({default: 512, min: 64, max: 4096, step: 64}), overlap: int({default: 64, min: 0, max: 4096, step: 32}), temporal_size: int({default: 64, min: 8, max: 4096, step: 4}), temporal_overlap: int({default: 8, min: 4, max: 4096, step: 4})},
    outputs: ['LATENT'],
    run: vaeEncode,
  }),
  GLIGENLoader: node('GLIGENLoader', 'loaders', {required: {gligen_name: combo(models('gligen'))}, outputs: ['GLIGEN'], run: opaqueLoader('gligen_name', 'GLIGEN', 300)}),
  GLIGENTextBoxApply: node('GLIGENTextBoxApply', 'conditioning/gligen', {
    required: {conditioning_to: link('CONDITIONING'), clip: link('CLIP'), gligen_textbox_model: link('GLIGEN'), text: prompt(), width: int({default: 64, min: 8, max: MAX_RESOLUTION, step: 8}), height: int({default: 64, min: 8, max: MAX_RESOLUTION, step: 8}), x: area(0), y: area(0)},
    outputs: ['CONDITIONING'],
    run: passThrough(['CONDITIONING']),
  }),
  InpaintModelConditioning: node('InpaintModelConditioning', 'conditioning/inpaint', {
    required: {positive: link('CONDITIONING'), negative: link('CONDITIONING'), vae: link('VAE'), pixels: link('IMAGE'), mask: link('MASK'), noise_mask: boolean({default: true, tooltip: 'Add a noise mask to the latent so sampling will only happen within the mask. Might improve results or completely break things depending on the model.'})},
    outputs: ['CONDITIONING', 'CONDITIONING', 'LATENT'],
    outputNames: ['positive', 'negative', 'latent'],
    run: async (inputs, ctx) => {
      const encoded = await vaeEncode(inputs, ctx);
      return {outputs: [inputs.positive as never, inputs.negative as never, encoded.outputs[0]!]};
    },
  }),
  LoadLatent: node('LoadLatent', '_for_testing', {
    required: {latent: combo((env) => (env.fs.list(TYPE_DIRS.input) ?? []).filter((name) => name.endsWith('.latent')).sort())},
    outputs: ['LATENT'],
    run: latentSized(() => ({width: 512, height: 512, batch: 1})),
  }),
  SaveLatent: node('SaveLatent', '_for_testing', {
    required: {samples: link('LATENT'), filename_prefix: string({default: 'latents/ComfyUI'})},
    hidden: SAVE_HIDDEN,
    outputs: [],
    outputNode: true,
    run: saveLatent,
  }),
};
