// The simulated Vast.ai offer market: a seeded, realistic set of machines and the offers they list
// (raw API field names and units, docs/vast-api.md §2.3), with churn and the §2.4 pricing maths.
// Used by cloud.ts (search routes, churn timer), query-eval.ts (pricing copies) and, later, create.
import {Random} from './random.js';

export type OfferValue = string | number | boolean | null | readonly number[] | PriceBreakdown;

/** $/h figures the API returns in an offer's `search` and `instance` objects. */
export interface PriceBreakdown {
  gpuCostPerHour: number;
  diskHour: number;
  totalHour: number;
  discountTotalHour: number;
  discountedTotalPerHour: number;
}

/** One offer exactly as the API serialises it; the named fields are the ones the simulator computes with. */
export interface SimOffer {
  readonly [field: string]: OfferValue;
  readonly id: number;
  readonly machine_id: number;
  readonly num_gpus: number;
  readonly gpu_name: string;
  readonly geolocation: string;
  /** $/h for the GPUs, on-demand. */
  readonly dph_base: number;
  readonly dph_total: number;
  readonly min_bid: number;
  /** $ per GB per month. */
  readonly storage_cost: number;
  readonly discount_rate: number;
  readonly dlperf: number;
  readonly total_flops: number;
  readonly gpu_total_ram: number;
  readonly reliability2: number;
}

export type OfferType = 'on-demand' | 'bid' | 'reserved';

/** The CLI's `--storage` default, used for the prices an offer carries at rest. */
export const DEFAULT_ALLOCATED_STORAGE_GB = 5;
const HOURS_PER_MONTH = 720;

export interface MarketOptions {
  seed?: number;
  /** How many offers the market holds (default 2400); churn keeps it near this size. */
  offers?: number;
  /** Epoch seconds the market is built at (default now): fixes start_date/end_date for reproducible tests. */
  nowSec?: number;
}

export interface MarketTick {
  /** Offers that vanished (rented by someone else, or slices of a machine that no longer fit). */
  taken: number[];
  /** New offers, with new ids. */
  added: number[];
  /** Offers whose price moved a few percent. */
  repriced: number[];
}

type Tier = 'consumer' | 'workstation' | 'datacenter';
// name, tier, machine weight, $/h per GPU [low, high], gpu_ram MB, compute_cap, TFLOPS, memory GB/s, watts, dlperf per GPU, min CUDA, NVLink GB/s
type GpuModel = readonly [string, Tier, number, readonly [number, number], number, number, number, number, number, number, number, number];
const GPU_MODELS: readonly GpuModel[] = [
  ['RTX 3060', 'consumer', 3, [0.05, 0.1], 12288, 860, 12.7, 360, 170, 9, 11, 0],
  ['RTX 3090', 'consumer', 16, [0.12, 0.3], 24576, 860, 35.6, 936, 350, 21, 11, 0],
  ['RTX 4070', 'consumer', 2, [0.1, 0.18], 12282, 890, 29.1, 504, 200, 17, 11.8, 0],
  ['RTX 4080', 'consumer', 3, [0.18, 0.35], 16376, 890, 48.7, 717, 320, 28, 11.8, 0],
  ['RTX 4090', 'consumer', 22, [0.28, 0.75], 24564, 890, 82.6, 1008, 450, 45, 11.8, 0],
  ['RTX 5090', 'consumer', 8, [0.45, 1.1], 32607, 1200, 104.8, 1792, 575, 60, 12.8, 0],
  ['RTX A4000', 'workstation', 3, [0.09, 0.18], 16376, 860, 19.2, 448, 140, 12, 11, 0],
  ['RTX A5000', 'workstation', 4, [0.15, 0.3], 24564, 860, 27.8, 768, 230, 17, 11, 0],
  ['RTX A6000', 'workstation', 6, [0.35, 0.7], 49140, 860, 38.7, 768, 300, 27, 11, 0],
  ['Tesla T4', 'workstation', 2, [0.08, 0.18], 15360, 750, 8.1, 320, 70, 6, 11, 0],
  ['Tesla V100', 'datacenter', 3, [0.15, 0.35], 32768, 700, 15.7, 900, 300, 14, 11, 300],
  ['L40S', 'datacenter', 5, [0.6, 1.1], 46068, 890, 91.6, 864, 350, 50, 12, 0],
  ['A100 PCIE', 'datacenter', 4, [0.8, 1.4], 40960, 800, 19.5, 1555, 250, 36, 11, 0],
  ['A100 SXM4', 'datacenter', 6, [0.9, 1.6], 81920, 800, 19.5, 2039, 400, 42, 11, 600],
  ['H100 PCIE', 'datacenter', 3, [1.6, 2.4], 81559, 900, 51.2, 2000, 350, 70, 12, 0],
  ['H100 SXM', 'datacenter', 6, [1.8, 3], 81559, 900, 66.9, 3350, 700, 85, 12, 900],
  ['H100 NVL', 'datacenter', 2, [1.8, 2.8], 95830, 900, 60, 3900, 400, 80, 12, 600],
  ['H200', 'datacenter', 3, [2.4, 4], 143771, 900, 66.9, 4800, 700, 95, 12.4, 900],
];
// driver_version, cuda_max_good, weight
const DRIVERS: readonly (readonly [string, number, number])[] = [
  ['520.61.05', 11.8, 2], ['525.147.05', 12, 3], ['535.183.01', 12.2, 10], ['545.29.06', 12.3, 5], ['550.127.05', 12.4, 14],
  ['560.35.03', 12.6, 10], ['565.57.01', 12.7, 10], ['570.133.07', 12.8, 22], ['575.64.03', 12.9, 12], ['580.82.07', 13, 12],
];
// country code, weight, places ('' gives the ", US" form Vast sometimes returns)
const COUNTRIES: readonly (readonly [string, number, readonly string[]])[] = [
  ['US', 30, ['California', 'Texas', 'Virginia', 'Oregon', 'New York', 'Nevada', 'Georgia', '']], ['CA', 5, ['Quebec', 'Ontario', 'British Columbia']],
  ['DE', 5, ['Frankfurt', 'Bavaria', 'Berlin']], ['GB', 4, ['London', 'England']], ['FR', 3, ['Paris', 'Ile-de-France']], ['NL', 3, ['Amsterdam', 'North Holland']],
  ['SE', 3, ['Sweden', 'Stockholm']], ['NO', 2, ['Norway', 'Oslo']], ['FI', 2, ['Finland', 'Helsinki']], ['PL', 3, ['Poland', 'Warsaw']], ['CZ', 2, ['Czechia', 'Prague']],
  ['ES', 2, ['Spain', 'Madrid']], ['RO', 2, ['Romania', 'Bucharest']], ['JP', 3, ['Tokyo', 'Osaka']], ['KR', 3, ['Seoul', 'Gyeonggi-do']], ['TW', 3, ['Taiwan', 'Taipei']],
  ['HK', 3, ['Hong Kong', '']], ['SG', 2, ['Singapore']], ['AU', 2, ['New South Wales', 'Victoria']], ['IN', 2, ['Maharashtra', 'Karnataka']], ['BR', 2, ['Sao Paulo']],
  ['VN', 4, ['Hanoi', 'Ho Chi Minh City']], ['CN', 6, ['Guangdong', 'Beijing', 'Shanghai']], ['TH', 2, ['Bangkok']],
];
// cpu_name, cpu_arch, threads, GHz, server board, weight
const CPUS: readonly (readonly [string, string, number, number, boolean, number])[] = [
  ['AMD Ryzen 9 7950X 16-Core Processor', 'amd64', 32, 4.5, false, 20], ['AMD Ryzen 9 5950X 16-Core Processor', 'amd64', 32, 3.4, false, 20],
  ['13th Gen Intel(R) Core(TM) i9-13900K', 'amd64', 32, 3, false, 18], ['12th Gen Intel(R) Core(TM) i7-12700K', 'amd64', 20, 3.6, false, 12],
  ['AMD Ryzen 7 5800X 8-Core Processor', 'amd64', 16, 3.8, false, 10], ['AMD EPYC 7543 32-Core Processor', 'amd64', 64, 2.8, true, 20],
  ['AMD EPYC 7763 64-Core Processor', 'amd64', 128, 2.45, true, 15], ['AMD EPYC 9654 96-Core Processor', 'amd64', 192, 2.4, true, 12],
  ['Intel(R) Xeon(R) Platinum 8480+', 'amd64', 112, 2, true, 12], ['Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz', 'amd64', 64, 2, true, 10],
  ['AMD Ryzen Threadripper PRO 5975WX 32-Cores', 'amd64', 64, 3.6, true, 10], ['Intel(R) Xeon(R) CPU E5-2698 v4 @ 2.20GHz', 'amd64', 40, 2.2, true, 5],
  ['Ampere Altra Max M128-30', 'arm64', 128, 3, true, 2], ['NVIDIA Grace', 'arm64', 72, 3.1, false, 1],
];
const DISK_NAMES = ['Samsung SSD 980 PRO 2TB', 'Samsung SSD 990 PRO 4TB', 'KINGSTON SNV2S2000G', 'WD_BLACK SN850X 2000GB', 'Micron_7450_MTFDKCC3T8TFR', 'SAMSUNG MZQL27T6HBLA-00A07', 'INTEL SSDPE2KX040T8', 'CT2000P3PSSD8'];
const MOBOS = ['ROG STRIX X670E-E GAMING WIFI', 'PRO Z790-P WIFI (MS-7E06)', 'B550 AORUS ELITE V2', 'H12SSL-i', 'ROMED8-2T', 'MZ73-LM0-000', 'X12DPG-QT6', 'WRX80E-SAGE SE WIFI'];

/** Every GPU model the market lists (Vast's spelling), sorted: GET /gpu_names/unique/. */
export function gpuModelNames(): string[] {
  return GPU_MODELS.map(([name]) => name).sort();
}

interface Machine {
  id: number;
  model: GpuModel;
  gpuCount: number;
  freeGpus: number;
  /** $/h per GPU, on-demand, as the host listed it. */
  gpuPrice: number;
  /** API fields every offer of this machine shares. */
  shared: Record<string, OfferValue>;
  geolocation: string;
  storageCost: number;
  reliability2: number;
  diskGb: number;
  ports: number;
  perfFactor: number;
  bidFraction: number;
  discountMax: number;
  cpuCores: number;
  cpuCoresKnown: boolean;
}

interface Host {
  id: number;
  geolocation: string;
  datacenter: boolean;
}

export class Market {
  readonly seed: number;
  readonly targetSize: number;
  private readonly nowSec: number;
  private readonly build: Random;
  private readonly churn: Random;
  private readonly offers = new Map<number, SimOffer>();
  private readonly machines = new Map<number, Machine>();
  private readonly hosts: Host[] = [];
  private nextOfferId: number;
  private nextMachineId: number;
  private nextHostId: number;
  /** Every field name an offer carries (what a search filter or `order` may name). */
  readonly fieldNames: ReadonlySet<string>;

  constructor(options: MarketOptions = {}) {
    this.seed = options.seed ?? 1;
    this.targetSize = options.offers ?? 2400;
    if (!Number.isInteger(this.targetSize) || this.targetSize < 1) throw new RangeError('A market needs at least one offer.');
    this.nowSec = options.nowSec ?? Math.floor(Date.now() / 1000);
    this.build = new Random(this.seed, 1);
    this.churn = new Random(this.seed, 2);
    this.nextOfferId = 20_000_000 + this.build.int(0, 5000);
    this.nextMachineId = 10_000 + this.build.int(0, 2000);
    this.nextHostId = 1000 + this.build.int(0, 5000);
    while (this.offers.size < this.targetSize) this.listMachine(this.build, this.targetSize - this.offers.size);
    this.fieldNames = new Set(Object.keys(this.offers.values().next().value ?? {}));
  }

  get size(): number {
    return this.offers.size;
  }

  /** The live offers, oldest id first. They are snapshots: the market replaces, never edits, an offer. */
  all(): SimOffer[] {
    return [...this.offers.values()];
  }

  get(id: number): SimOffer | undefined {
    return this.offers.get(id);
  }

  /** Removes an offer (it was rented) and returns it; other slices of its machine that no longer fit vanish too. */
  take(id: number): SimOffer | undefined {
    const offer = this.offers.get(id);
    if (offer) this.takeWithSiblings(offer);
    return offer;
  }

  /** One deterministic step of market life: some offers are taken, new ones appear, some prices move. */
  tick(): MarketTick {
    const taken: number[] = [];
    const ids = [...this.offers.keys()];
    const takeCount = Math.max(1, Math.round(ids.length * this.churn.range(0.004, 0.012)));
    for (let index = 0; index < takeCount; index++) {
      const offer = this.offers.get(this.churn.pick(ids));
      if (offer) taken.push(...this.takeWithSiblings(offer));
    }
    const movedMachines = new Set<number>();
    for (const machine of this.machines.values()) {
      if (!this.churn.chance(0.02)) continue;
      const move = this.churn.range(0.01, 0.05) * (this.churn.chance(0.5) ? 1 : -1);
      machine.gpuPrice = round(machine.gpuPrice * (1 + move), 4);
      movedMachines.add(machine.id);
    }
    const repriced: number[] = [];
    for (const offer of this.offers.values()) {
      const machine = this.machines.get(offer.machine_id);
      if (!machine || !movedMachines.has(machine.id)) continue;
      this.offers.set(offer.id, this.makeOffer(machine, offer.num_gpus, offer.id));
      repriced.push(offer.id);
    }
    const firstNewId = this.nextOfferId + 1;
    while (this.offers.size < this.targetSize) this.listMachine(this.churn, Number.POSITIVE_INFINITY);
    return {taken, added: [...this.offers.keys()].filter(id => id >= firstNewId), repriced};
  }

  private takeWithSiblings(offer: SimOffer): number[] {
    this.offers.delete(offer.id);
    const gone = [offer.id];
    const machine = this.machines.get(offer.machine_id);
    if (!machine) return gone;
    machine.freeGpus -= offer.num_gpus;
    let left = 0;
    for (const sibling of this.offers.values()) {
      if (sibling.machine_id !== machine.id) continue;
      if (sibling.num_gpus <= machine.freeGpus) left++;
      else {
        this.offers.delete(sibling.id);
        gone.push(sibling.id);
      }
    }
    if (left === 0) this.machines.delete(machine.id);
    return gone;
  }

  /** Creates a machine and lists up to `room` offers for it: the whole box and/or 1x/2x/4x slices. */
  private listMachine(random: Random, room: number): void {
    const model = random.weighted(GPU_MODELS.map(gpu => [gpu, gpu[2]] as const));
    const tier = model[1];
    const counts: [number, number][] = tier === 'datacenter' ? [[1, 20], [2, 15], [4, 20], [8, 45]] : tier === 'workstation' ? [[1, 45], [2, 25], [4, 18], [8, 12]] : [[1, 58], [2, 20], [4, 12], [8, 10]];
    const gpuCount = random.weighted(counts);
    const machine = this.newMachine(random, model, gpuCount);
    const sizes = [1, 2, 4, 8].filter(size => size <= gpuCount);
    const listed = sizes.filter(size => gpuCount === 1 || random.chance(size === 1 ? 0.85 : size === gpuCount ? 0.6 : 0.35));
    if (listed.length === 0) listed.push(gpuCount);
    this.machines.set(machine.id, machine);
    for (const size of listed.slice(0, room)) {
      this.nextOfferId += random.int(1, 120);
      this.offers.set(this.nextOfferId, this.makeOffer(machine, size, this.nextOfferId));
    }
  }

  private pickHost(random: Random, datacenter: boolean): Host {
    const known = this.hosts.filter(host => host.datacenter === datacenter);
    if (known.length > 0 && random.chance(0.35)) return random.pick(known.slice(-40));
    const [code, places] = random.weighted(COUNTRIES.map(([country, weight, cities]) => [[country, cities] as const, weight] as const));
    const host = {id: (this.nextHostId += random.int(1, 400)), geolocation: `${random.pick(places)}, ${code}`, datacenter};
    this.hosts.push(host);
    return host;
  }

  private newMachine(random: Random, model: GpuModel, gpuCount: number): Machine {
    const [name, tier, , [priceLow, priceHigh], ramMb, computeCap, , memBw, watts, , minCuda] = model;
    const datacenter = random.chance(tier === 'datacenter' ? 0.6 : tier === 'workstation' ? 0.25 : 0.1);
    const host = this.pickHost(random, datacenter);
    const id = (this.nextMachineId += random.int(1, 40));
    const [driver, cuda] = random.weighted(DRIVERS.filter(([, version]) => version >= minCuda).map(entry => [entry, entry[2]] as const));
    const server = datacenter || gpuCount > 2;
    const [cpuName, cpuArch, threads, ghz] = random.weighted(CPUS.filter(cpu => cpu[4] === server).map(cpu => [cpu, cpu[5]] as const));
    const inetDown = clamp(random.lognormal(datacenter ? 2200 : 450, 0.8), 20, 8000);
    const downCost = bandwidthCost(random);
    const upCost = round(Math.min(0.1, downCost * random.range(0.4, 1.3)), 5);
    const reliability = round(0.9995 - 0.1995 * random.next() ** 3.5, 4);
    const verification = random.weighted<string>(datacenter ? [['verified', 97], ['unverified', 3]] : [['verified', 80], ['unverified', 13], ['deverified', 7]]);
    const pciGen = computeCap >= 1200 ? 5 : computeCap >= 890 ? random.pick([4, 5]) : computeCap === 860 ? random.pick([3, 4]) : computeCap === 800 ? 4 : 3;
    const lanes = random.weighted([[16, 75], [8, 20], [4, 5]]);
    const osVersion = random.pick(['20.04', '22.04', '22.04', '24.04']);
    const durationSec = Math.round(clamp(random.lognormal(60, 1), 1, 400) * 86_400);
    return {
      id, model, gpuCount, freeGpus: gpuCount, geolocation: host.geolocation,
      gpuPrice: round(priceLow + (priceHigh - priceLow) * random.next() ** 1.3, 3),
      storageCost: random.chance(0.35) ? 0.1 : round(clamp(random.lognormal(0.15, 0.5), 0.05, 0.4), 4),
      reliability2: round(clamp(reliability + random.normal(0, 0.003), 0.8, 0.9995), 4),
      diskGb: round(random.pick(server ? [1000, 2000, 4000, 8000] : [120, 250, 500, 1000, 2000]) * random.range(0.45, 0.95), 1),
      ports: random.chance(0.06) ? 0 : Math.round(clamp(random.lognormal(120, 1), 8, 2000)),
      perfFactor: random.range(0.9, 1.05), bidFraction: random.range(0.3, 0.7),
      discountMax: random.weighted([[0, 20], [0.1, 25], [0.2, 25], [0.3, 20], [0.4, 10]]),
      cpuCores: threads * (server && random.chance(0.3) ? 2 : 1), cpuCoresKnown: !random.chance(0.02),
      shared: {
        host_id: host.id, bundle_id: 300_000_000 + id * 3, bundled_results: null, geolocode: countryNumber(host.geolocation),
        gpu_arch: 'nvidia', gpu_ram: ramMb, compute_cap: computeCap, gpu_mem_bw: round(memBw * random.range(0.92, 1), 1),
        gpu_max_power: Math.round(watts * random.pick([1, 1, 1, 0.9, 0.8])), gpu_max_temp: random.int(83, 95), gpu_lanes: lanes,
        gpu_display_active: tier === 'consumer' && random.chance(0.1),
        cuda_max_good: cuda, driver_version: driver, driver_vers: Number(driver.split('.').map(part => part.padStart(3, '0')).join('')),
        pci_gen: pciGen, pcie_bw: round([0.985, 1.97, 3.94][pciGen - 3]! * lanes * random.range(0.7, 0.95), 1),
        cpu_name: cpuName, cpu_arch: cpuArch, cpu_ghz: round(ghz * random.range(0.95, 1.1), 1), has_avx: cpuArch === 'amd64' ? 1 : 0,
        cpu_ram: Math.round(random.pick(server ? [262_144, 524_288, 1_048_576, 2_064_384] : [32_768, 65_536, 131_072]) * random.range(0.96, 1)),
        mobo_name: random.pick(MOBOS), os_version: osVersion, ubuntu_version: osVersion,
        disk_bw: round(clamp(random.lognormal(2500, 0.6), 150, 12_000), 1), disk_name: random.pick(DISK_NAMES),
        inet_down: round(inetDown, 1), inet_up: round(clamp(inetDown * random.range(0.2, 1.05), 5, 8000), 1),
        inet_down_cost: downCost, inet_up_cost: upCost, internet_down_cost_per_tb: round(downCost * 1024, 4), internet_up_cost_per_tb: round(upCost * 1024, 4),
        reliability, reliability_mult: round(reliability ** 2, 4), expected_reliability: round(Math.min(0.9995, reliability + 0.002), 4),
        verification, vericode: verification === 'verified' ? 1 : verification === 'unverified' ? 0 : -1, verified: verification === 'verified',
        rentable: random.chance(0.97), rented: false,
        external: random.chance(0.1) ? null : !datacenter && random.chance(0.07), datacenter, hosting_type: datacenter ? 1 : 0,
        public_ipaddr: `${random.pick(['203.0.113', '198.51.100', '192.0.2'])}.${random.int(1, 254)}`,
        static_ip: random.chance(datacenter ? 0.95 : 0.55), vms_enabled: random.chance(0.25), is_vm_deverified: false,
        start_date: this.nowSec - random.int(3600, 200 * 86_400), end_date: this.nowSec + durationSec, duration: durationSec,
        time_remaining: timeRemaining(durationSec), time_remaining_isbid: timeRemaining(durationSec),
        resource_type: 'gpu', cluster_id: null, logo: null, webpage: null, hostname: null,
        avail_vol_ask_id: null, avail_vol_dph: null, avail_vol_size: null, nw_disk_min_bw: null, nw_disk_max_bw: null, nw_disk_avg_bw: null,
      },
    };
  }

  private makeOffer(machine: Machine, numGpus: number, id: number): SimOffer {
    const [name, , , , ramMb, , tflops, , , dlperf, , nvlink] = machine.model;
    const fraction = numGpus / machine.gpuCount;
    const dphBase = round(machine.gpuPrice * numGpus, 6);
    const inputs = {
      dph_base: dphBase, min_bid: round(dphBase * machine.bidFraction, 6), storage_cost: machine.storageCost,
      discount_rate: round(machine.discountMax / 3, 3), reliability2: machine.reliability2, gpu_total_ram: ramMb * numGpus,
      dlperf: round(dlperf * numGpus ** 0.92 * machine.perfFactor, 2), total_flops: round(tflops * numGpus, 1),
    };
    const prices = offerPrices(inputs, DEFAULT_ALLOCATED_STORAGE_GB, 'on-demand');
    // Vast's score is a private blend; ours rewards performance, value for money and reliability.
    const score = Math.sqrt((inputs.dlperf / prices.dph_total) * inputs.dlperf) * machine.reliability2 ** 4;
    return {
      id, ask_contract_id: id, machine_id: machine.id, ...machine.shared, gpu_name: name, geolocation: machine.geolocation,
      num_gpus: numGpus, gpu_frac: round(fraction, 4), gpu_ids: Array.from({length: numGpus}, (_, index) => machine.id * 10 + index),
      bw_nvlink: numGpus > 1 ? nvlink : 0, cpu_cores: machine.cpuCoresKnown ? machine.cpuCores : null,
      cpu_cores_effective: round(machine.cpuCores * fraction, 1), disk_space: round(machine.diskGb * fraction, 1),
      direct_port_count: Math.floor(machine.ports * fraction), credit_discount_max: machine.discountMax,
      ...inputs, ...prices, score: round(score, 2),
    };
  }
}

/** The inputs of the price maths: an offer's on-demand GPU price, bid, storage price and performance. */
export type PricingInputs = Pick<SimOffer, 'dph_base' | 'min_bid' | 'storage_cost' | 'discount_rate' | 'reliability2' | 'gpu_total_ram' | 'dlperf' | 'total_flops'>;

/** The fields that depend on the offer type and allocated storage. */
export interface OfferPrices {
  dph_base: number;
  dph_total: number;
  storage_total_cost: number;
  discounted_hourly: number;
  discounted_dph_total: number;
  dph_total_adj: number;
  vram_costperhour: number;
  dlperf_per_dphtotal: number;
  flops_per_dphtotal: number;
  is_bid: boolean;
  search: PriceBreakdown;
  instance: PriceBreakdown;
}

/**
 * §2.4: storage is $/GB/month, so the hourly disk charge is storage_cost × GB / 720 and
 * dph_total = GPU $/h + that. For `bid` the GPU price is the minimum bid. `offer` holds on-demand prices.
 */
export function offerPrices(offer: PricingInputs, allocatedStorageGb: number, type: OfferType): OfferPrices {
  const gpuCost = type === 'bid' ? offer.min_bid : offer.dph_base;
  const diskHour = (offer.storage_cost * allocatedStorageGb) / HOURS_PER_MONTH;
  const total = gpuCost + diskHour;
  const discount = type === 'bid' ? 0 : gpuCost * offer.discount_rate;
  const breakdown: PriceBreakdown = {
    gpuCostPerHour: round(gpuCost, 7),
    diskHour: round(diskHour, 7),
    totalHour: round(total, 7),
    discountTotalHour: round(discount, 7),
    discountedTotalPerHour: round(total - discount, 7),
  };
  return {
    dph_base: breakdown.gpuCostPerHour,
    dph_total: breakdown.totalHour,
    storage_total_cost: breakdown.diskHour,
    discounted_hourly: breakdown.discountTotalHour,
    discounted_dph_total: breakdown.discountedTotalPerHour,
    dph_total_adj: round(total / offer.reliability2, 7),
    vram_costperhour: round(total / offer.gpu_total_ram, 10),
    dlperf_per_dphtotal: round(offer.dlperf / total, 4),
    flops_per_dphtotal: round(offer.total_flops / total, 4),
    is_bid: type === 'bid',
    search: breakdown,
    instance: {...breakdown},
  };
}

/** $ per GB: most hosts charge under a cent, a long tail up to ten cents. */
function bandwidthCost(random: Random): number {
  const bucket = random.weighted([['low', 55], ['mid', 30], ['tail', 15]] as const);
  if (bucket === 'low') return random.chance(0.15) ? 0 : round(random.range(0, 0.004), 5);
  if (bucket === 'mid') return round(random.range(0.004, 0.01), 5);
  return round(clamp(random.lognormal(0.025, 0.6), 0.01, 0.1), 5);
}

/** Vast's "12 Mon 24 D 16 Hr" style. */
function timeRemaining(seconds: number): string {
  const hours = Math.floor(seconds / 3600);
  const months = Math.floor(hours / 720);
  return `${months > 0 ? `${months} Mon ` : ''}${Math.floor((hours % 720) / 24)} D ${hours % 24} Hr`;
}

function countryNumber(geolocation: string): number {
  const code = geolocation.slice(-2);
  return code.charCodeAt(0) * 1000 + code.charCodeAt(1);
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
