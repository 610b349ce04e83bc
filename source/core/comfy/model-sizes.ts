// Bytes of the model files vastdeck's shipped workflows load and the simulator's boots download
// (the sizes their hosts publish, as in sim-data/remote-files.json). A manifest's modelGb is the sum
// for its workflow's models (test/integration/sim-cost-model.test.ts checks), and the simulator bills
// a replayed boot's finished downloads by this table, so the cost model and the simulator's billing
// count the same gigabytes.
export const MODEL_BYTES: Readonly<Record<string, number>> = {
  // stabilityai/stable-diffusion-xl-base-1.0, sd_xl_base_1.0.safetensors
  'sd_xl_base_1.0.safetensors': 6_938_078_334,
  // civitai model 135867 (the LoRA of the recorded boot the simulator replays)
  'detail_tweaker_xl.safetensors': 311_290_102,
};
