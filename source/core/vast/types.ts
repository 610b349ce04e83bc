// Our own types for what the Vast.ai API returns, parsed once at the boundary (parse.ts).
// Units are in the names where they are not obvious. Field meanings: docs/vast-api.md §2.3.

export interface Offer {
  /** Offer id: pass it to PUT /asks/{id}/. */
  id: number;
  machineId: number;
  hostId: number;
  gpuName: string;
  numGpus: number;
  /** MB (really MiB) per GPU. */
  gpuRamMb: number;
  /** CUDA compute capability ×100 (890 = sm_89). */
  computeCap: number;
  /** Max CUDA version the driver supports, e.g. 12.8. */
  cudaMaxGood: number;
  /** $/h for the GPUs alone. */
  dphBase: number;
  /** $/h for GPUs + the allocated storage the search asked for. */
  dphTotal: number;
  /** $ per GB per month. */
  storageCostPerGbMonth: number;
  inetDownMbps: number;
  inetUpMbps: number;
  /** $ per GB downloaded. */
  inetDownCostPerGb: number;
  /** $ per GB uploaded. */
  inetUpCostPerGb: number;
  /** 0..1 */
  reliability: number;
  /** Free text such as "California, US". */
  geolocation: string;
  /** Two-letter code from the end of geolocation, '' when absent. */
  countryCode: string;
  diskSpaceGb: number;
  verified: boolean;
  cpuArch: string;
  directPortCount: number;
  dlperf: number;
  /** TFLOPS of all the offer's GPUs together. */
  totalFlops: number;
  score: number;
}
