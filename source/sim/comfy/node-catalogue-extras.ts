// The comfy_extras nodes common SD1.5/SDXL/Flux/video API workflows use (custom sampling, Flux
// and SD3 conditioning and latents, model sampling, upscale models, masks, image batches, video
// latents, CreateVideo/SaveVideo) and SaveImageWebsocket from custom_nodes/websocket_image_save.py,
// which sends each image as a binary WebSocket frame. Merged into the catalogue by node-catalogue.ts.
import {customSampling, emptyLatent, guider, handle, imageScaledBy, opaque, opaqueLoader, passThrough, samplerLike} from './node-generic.js';
import {saveImagePath} from './node-save.js';
import {encodePng} from './png-writer.js';
import {MAX_RESOLUTION, SAMPLERS, SCHEDULERS, boolean, combo, float, int, link, models, node, prompt, seed, string} from './node-spec.js';
import {expectValue, type ImageBatch, type NodeDef, type OpaqueValue, type RunContext, type RunResult} from './node-types.js';
import {pyStr} from './python-text.js';

const extra = (module: string) => ({pythonModule: `comfy_extras.${module}`});
const guidance = float({default: 3.5, min: 0.0, max: 100.0, step: 0.1});
const size = (value: number, step = 8) => int({default: value, min: 16, max: MAX_RESOLUTION, step});

/** SaveImageWebsocket: every image as a PNG in a binary frame to the job's client, nothing on disk. */
async function saveImageWebsocket(inputs: Record<string, unknown>, ctx: RunContext): Promise<RunResult> {
  const images = expectValue(inputs.images, 'IMAGE', 'images');
  for (const [index, frame] of images.frames.entries()) {
    await ctx.work(25);
    ctx.sendImage(encodePng(frame, images.width, images.height, {compressLevel: 1, text: []}));
    await ctx.step(index + 1, images.frames.length);
  }
  return {outputs: []};
}

/** CreateVideo: the frames and fps, carried to SaveVideo. */
async function createVideo(inputs: Record<string, unknown>, ctx: RunContext): Promise<RunResult> {
  const images = expectValue(inputs.images, 'IMAGE', 'images');
  await ctx.work(5);
  return {outputs: [opaque('VIDEO', 'video', {frames: images.frames.length, width: images.width, height: images.height, fps: Number(inputs.fps)})]};
}

/**
 * SaveVideo: an .mp4 under output/ listed under `images` with `animated: [true]`, as the real node
 * does. The simulator encodes no video: the file is an MP4 header (ftyp) with the frame count and
 * size in a `free` box, so downloads and names behave; it does not play.
 */
async function saveVideo(inputs: Record<string, unknown>, ctx: RunContext): Promise<RunResult> {
  const video = expectValue(inputs.video, 'OPAQUE', 'video') as OpaqueValue;
  const {folder, stem, counter, subfolder} = saveImagePath(ctx.fs, 'output', pyStr(inputs.filename_prefix), Number(video.data?.width ?? 0), Number(video.data?.height ?? 0));
  const filename = `${stem}_${String(counter).padStart(5, '0')}_.mp4`;
  await ctx.work(40 * Number(video.data?.frames ?? 1));
  const note = Buffer.from(JSON.stringify({simulated: true, ...video.data}));
  const box = (type: string, body: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, (body.length + 8) >> 8, (body.length + 8) & 255]), Buffer.from(type), body]);
  ctx.fs.write(`${folder}/${filename}`, Buffer.concat([box('ftyp', Buffer.from('isom\0\0\x02\0isomiso2avc1mp41', 'latin1')), box('free', note)]));
  return {outputs: [], ui: {images: [{filename, subfolder, type: 'output'}], animated: [true]}};
}

/** ImageCrop: a region of each frame. */
async function imageCrop(inputs: Record<string, unknown>, ctx: RunContext): Promise<RunResult> {
  const image = expectValue(inputs.image, 'IMAGE', 'image');
  const x = Math.min(Number(inputs.x), image.width - 1);
  const y = Math.min(Number(inputs.y), image.height - 1);
  const width = Math.min(Number(inputs.width), image.width - x);
  const height = Math.min(Number(inputs.height), image.height - y);
  await ctx.work(5);
  const frames = image.frames.map((frame) => {
    const out = Buffer.alloc(width * height * 4);
    for (let row = 0; row < height; row++) frame.copy(out, row * width * 4, ((y + row) * image.width + x) * 4, ((y + row) * image.width + x + width) * 4);
    return out;
  });
  const cropped: ImageBatch = {...image, width, height, frames};
  return {outputs: [cropped]};
}

export const EXTRA_NODES: Readonly<Record<string, NodeDef>> = {
  SaveImageWebsocket: node('SaveImageWebsocket', 'api node/image', {
    pythonModule: 'custom_nodes.websocket_image_save',
    required: {images: link('IMAGE')},
    outputs: [],
    outputNode: true,
    run: saveImageWebsocket,
  }),
  CLIPTextEncodeSDXL: node('CLIPTextEncodeSDXL', 'advanced/conditioning', {
    ...extra('nodes_clip_sdxl'),
    required: {clip: link('CLIP'), width: size(1024, 1), height: size(1024, 1), crop_w: int({default: 0, min: 0, max: MAX_RESOLUTION}), crop_h: int({default: 0, min: 0, max: MAX_RESOLUTION}), target_width: size(1024, 1), target_height: size(1024, 1), text_g: prompt(), text_l: prompt()},
    outputs: ['CONDITIONING'],
    run: passThrough(['CONDITIONING'], 40),
  }),
  CLIPTextEncodeSDXLRefiner: node('CLIPTextEncodeSDXLRefiner', 'advanced/conditioning', {
    ...extra('nodes_clip_sdxl'),
    required: {ascore: float({default: 6.0, min: 0.0, max: 1000.0, step: 0.01}), width: size(1024, 1), height: size(1024, 1), text: prompt(), clip: link('CLIP')},
    outputs: ['CONDITIONING'],
    run: passThrough(['CONDITIONING'], 40),
  }),
  UpscaleModelLoader: node('Load Upscale Model', 'loaders', {...extra('nodes_upscale_model'), required: {model_name: combo(models('upscale_models'))}, outputs: ['UPSCALE_MODEL'], run: opaqueLoader('model_name', 'UPSCALE_MODEL', 200)}),
  ImageUpscaleWithModel: node('Upscale Image (using Model)', 'image/upscaling', {...extra('nodes_upscale_model'), required: {upscale_model: link('UPSCALE_MODEL'), image: link('IMAGE')}, outputs: ['IMAGE'], run: imageScaledBy(() => 4)}),
  CLIPTextEncodeFlux: node('CLIPTextEncodeFlux', 'advanced/conditioning/flux', {...extra('nodes_flux'), required: {clip: link('CLIP'), clip_l: prompt(), t5xxl: prompt(), guidance}, outputs: ['CONDITIONING'], run: passThrough(['CONDITIONING'], 60)}),
  FluxGuidance: node('FluxGuidance', 'advanced/conditioning/flux', {...extra('nodes_flux'), required: {conditioning: link('CONDITIONING'), guidance}, outputs: ['CONDITIONING'], run: passThrough(['CONDITIONING'])}),
  EmptySD3LatentImage: node('EmptySD3LatentImage', 'latent/sd3', {...extra('nodes_sd3'), required: {width: size(1024, 16), height: size(1024, 16), batch_size: int({default: 1, min: 1, max: 4096})}, outputs: ['LATENT'], run: emptyLatent()}),
  ModelSamplingFlux: node('ModelSamplingFlux', 'advanced/model', {
    ...extra('nodes_model_advanced'),
    required: {model: link('MODEL'), max_shift: float({default: 1.15, min: 0.0, max: 100.0, step: 0.01}), base_shift: float({default: 0.5, min: 0.0, max: 100.0, step: 0.01}), width: size(1024), height: size(1024)},
    outputs: ['MODEL'],
    run: passThrough(['MODEL']),
  }),
  ModelSamplingSD3: node('ModelSamplingSD3', 'advanced/model', {...extra('nodes_model_advanced'), required: {model: link('MODEL'), shift: float({default: 3.0, min: 0.0, max: 100.0, step: 0.01})}, outputs: ['MODEL'], run: passThrough(['MODEL'])}),
  ModelSamplingDiscrete: node('ModelSamplingDiscrete', 'advanced/model', {
    ...extra('nodes_model_advanced'),
    required: {model: link('MODEL'), sampling: combo(['eps', 'v_prediction', 'lcm', 'x0', 'img_to_img']), zsnr: boolean({default: false, advanced: true})},
    outputs: ['MODEL'],
    run: passThrough(['MODEL']),
  }),
  KSamplerSelect: node('KSamplerSelect', 'sampling/custom_sampling/samplers', {...extra('nodes_custom_sampler'), required: {sampler_name: combo(SAMPLERS)}, outputs: ['SAMPLER'], run: handle('SAMPLER', (inputs) => pyStr(inputs.sampler_name))}),
  BasicScheduler: node('BasicScheduler', 'sampling/custom_sampling/schedulers', {
    ...extra('nodes_custom_sampler'),
    required: {model: link('MODEL'), scheduler: combo(SCHEDULERS), steps: int({default: 20, min: 1, max: 10_000}), denoise: float({default: 1.0, min: 0.0, max: 1.0, step: 0.01})},
    outputs: ['SIGMAS'],
    run: handle('SIGMAS', (inputs) => `${pyStr(inputs.scheduler)}/${pyStr(inputs.steps)}`),
  }),
  RandomNoise: node('RandomNoise', 'sampling/custom_sampling/noise', {...extra('nodes_custom_sampler'), required: {noise_seed: seed()}, outputs: ['NOISE'], run: handle('NOISE', (inputs) => pyStr(inputs.noise_seed))}),
  BasicGuider: node('BasicGuider', 'sampling/custom_sampling/guiders', {...extra('nodes_custom_sampler'), required: {model: link('MODEL'), conditioning: link('CONDITIONING')}, outputs: ['GUIDER'], run: guider}),
  CFGGuider: node('CFGGuider', 'sampling/custom_sampling/guiders', {
    ...extra('nodes_custom_sampler'),
    required: {model: link('MODEL'), positive: link('CONDITIONING'), negative: link('CONDITIONING'), cfg: float({default: 8.0, min: 0.0, max: 100.0, step: 0.1, round: 0.01})},
    outputs: ['GUIDER'],
    run: guider,
  }),
  SamplerCustomAdvanced: node('SamplerCustomAdvanced', 'sampling/custom_sampling', {
    ...extra('nodes_custom_sampler'),
    required: {noise: link('NOISE'), guider: link('GUIDER'), sampler: link('SAMPLER'), sigmas: link('SIGMAS'), latent_image: link('LATENT')},
    outputs: ['LATENT', 'LATENT'],
    outputNames: ['output', 'denoised_output'],
    run: samplerLike(customSampling),
  }),
  SamplerCustom: node('SamplerCustom', 'sampling/custom_sampling', {
    ...extra('nodes_custom_sampler'),
    required: {model: link('MODEL'), add_noise: boolean({default: true}), noise_seed: seed(), cfg: float({default: 8.0, min: 0.0, max: 100.0, step: 0.1, round: 0.01}), positive: link('CONDITIONING'), negative: link('CONDITIONING'), sampler: link('SAMPLER'), sigmas: link('SIGMAS'), latent_image: link('LATENT')},
    outputs: ['LATENT', 'LATENT'],
    outputNames: ['output', 'denoised_output'],
    run: samplerLike(customSampling),
  }),
  EmptyHunyuanLatentVideo: node('EmptyHunyuanLatentVideo', 'latent/video', {
    ...extra('nodes_hunyuan'),
    required: {width: size(848, 16), height: size(480, 16), length: int({default: 25, min: 1, max: MAX_RESOLUTION, step: 4}), batch_size: int({default: 1, min: 1, max: 4096})},
    outputs: ['LATENT'],
    run: emptyLatent((inputs) => Number(inputs.length)),
  }),
  CreateVideo: node('Create Video', 'image/video', {
    ...extra('nodes_video'),
    description: 'Create a video from images.',
    required: {images: link('IMAGE', {tooltip: 'The images to create a video from.'}), fps: float({default: 30.0, min: 1.0, max: 120.0, step: 1.0})},
    optional: {audio: link('AUDIO', {tooltip: 'The audio to add to the video.'})},
    outputs: ['VIDEO'],
    run: createVideo,
  }),
  SaveVideo: node('Save Video', 'image/video', {
    ...extra('nodes_video'),
    description: 'Saves the input images to your ComfyUI output directory.',
    required: {
      video: link('VIDEO', {tooltip: 'The video to save.'}),
      filename_prefix: string({default: 'video/ComfyUI', tooltip: 'The prefix for the file to save. This may include formatting information such as %date:yyyy-MM-dd% or %Empty Latent Image.width% to include values from nodes.'}),
      format: combo(['auto', 'mp4'], {default: 'auto', tooltip: 'The format to save the video as.'}),
      codec: combo(['auto', 'h264'], {default: 'auto', tooltip: 'The codec to use for the video.'}),
    },
    outputs: [],
    outputNode: true,
    run: saveVideo,
  }),
  ImageToMask: node('Convert Image to Mask', 'mask', {...extra('nodes_mask'), required: {image: link('IMAGE'), channel: combo(['red', 'green', 'blue', 'alpha'])}, outputs: ['MASK'], run: passThrough(['MASK'])}),
  MaskToImage: node('Convert Mask to Image', 'mask', {
    ...extra('nodes_mask'),
    required: {mask: link('MASK')},
    outputs: ['IMAGE'],
    run: async (inputs, ctx) => {
      const mask = expectValue(inputs.mask, 'MASK', 'mask');
      await ctx.work(5);
      const frame = Buffer.alloc(mask.width * mask.height * 4, 255);
      return {outputs: [{kind: 'IMAGE', width: mask.width, height: mask.height, frames: Array.from({length: mask.count}, () => Buffer.from(frame)), origin: 'a mask'}]};
    },
  }),
  SolidMask: node('SolidMask', 'mask', {
    ...extra('nodes_mask'),
    required: {value: float({default: 1.0, min: 0.0, max: 1.0, step: 0.01}), width: int({default: 512, min: 1, max: MAX_RESOLUTION, step: 1}), height: int({default: 512, min: 1, max: MAX_RESOLUTION, step: 1})},
    outputs: ['MASK'],
    run: passThrough(['MASK']),
  }),
  GrowMask: node('GrowMask', 'mask', {...extra('nodes_mask'), required: {mask: link('MASK'), expand: int({default: 0, min: -MAX_RESOLUTION, max: MAX_RESOLUTION, step: 1}), tapered_corners: boolean({default: true})}, outputs: ['MASK'], run: passThrough(['MASK'])}),
  ImageCompositeMasked: node('ImageCompositeMasked', 'image', {
    ...extra('nodes_mask'),
    required: {destination: link('IMAGE'), source: link('IMAGE'), x: int({default: 0, min: 0, max: MAX_RESOLUTION, step: 1}), y: int({default: 0, min: 0, max: MAX_RESOLUTION, step: 1}), resize_source: boolean({default: false})},
    optional: {mask: link('MASK')},
    outputs: ['IMAGE'],
    run: async (inputs, ctx) => {
      await ctx.work(10);
      return {outputs: [expectValue(inputs.destination, 'IMAGE', 'destination')]};
    },
  }),
  ImageCrop: node('Image Crop', 'image/transform', {
    ...extra('nodes_images'),
    required: {image: link('IMAGE'), width: int({default: 512, min: 1, max: MAX_RESOLUTION, step: 1}), height: int({default: 512, min: 1, max: MAX_RESOLUTION, step: 1}), x: int({default: 0, min: 0, max: MAX_RESOLUTION, step: 1}), y: int({default: 0, min: 0, max: MAX_RESOLUTION, step: 1})},
    outputs: ['IMAGE'],
    run: imageCrop,
  }),
  RepeatImageBatch: node('RepeatImageBatch', 'image/batch', {
    ...extra('nodes_images'),
    required: {image: link('IMAGE'), amount: int({default: 1, min: 1, max: 4096})},
    outputs: ['IMAGE'],
    run: async (inputs, ctx) => {
      const image = expectValue(inputs.image, 'IMAGE', 'image');
      await ctx.work(5);
      return {outputs: [{...image, frames: Array.from({length: Number(inputs.amount)}, () => image.frames).flat()}]};
    },
  }),
};
