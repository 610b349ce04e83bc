// The GPU names Vast.ai uses in `gpu_name` (its own spelling: "RTX 4090", "RTX 6000Ada", "H100 SXM")
// and forgiving lookups for what users type (RTX_4090, rtx4090, RTX_4009). Used by the filter
// grammar (query.ts) to turn typed names into Vast spellings and to suggest fixes for typos.

/** Known `gpu_name` values, newest families first within each group (docs/vast-api.md §2.2). */
export const KNOWN_GPU_NAMES: readonly string[] = [
  'RTX 5090', 'RTX 5080', 'RTX 5070 Ti', 'RTX 5070', 'RTX 5060 Ti', 'RTX 5060',
  'RTX 4090', 'RTX 4090D', 'RTX 4080S', 'RTX 4080', 'RTX 4070S Ti', 'RTX 4070 Ti', 'RTX 4070S', 'RTX 4070',
  'RTX 4060 Ti', 'RTX 4060',
  'RTX 3090 Ti', 'RTX 3090', 'RTX 3080 Ti', 'RTX 3080', 'RTX 3070 Ti', 'RTX 3070', 'RTX 3060 Ti', 'RTX 3060',
  'RTX 2080 Ti', 'RTX 2080S', 'RTX 2080', 'RTX 2070S', 'RTX 2070', 'RTX 2060', 'GTX 1080 Ti', 'GTX 1080', 'GTX 1070',
  'RTX PRO 6000 WS', 'RTX PRO 6000 S', 'RTX 6000Ada', 'RTX 5000Ada', 'RTX 4500Ada', 'RTX 4000Ada',
  'RTX A6000', 'RTX A5000', 'RTX A4500', 'RTX A4000', 'RTX A2000',
  'Q RTX 8000', 'Q RTX 6000', 'Titan RTX', 'Titan V',
  'B200', 'H200', 'H200 NVL', 'H100 SXM', 'H100 NVL', 'H100 PCIE', 'GH200 SXM',
  'A100 SXM4', 'A100 PCIE', 'A100X', 'A800 PCIE', 'L40S', 'L40', 'L4', 'A40', 'A10', 'A10G',
  'Tesla V100', 'Tesla T4', 'Tesla P100', 'Tesla P40',
];

/** Case, spaces, underscores and dashes do not matter: "rtx_4090" and "RTX4090" are one key. */
function lookupKey(text: string): string {
  return text.toLowerCase().replace(/[\s_-]+/g, '');
}

const byKey = new Map(KNOWN_GPU_NAMES.map(name => [lookupKey(name), name]));

/** The Vast spelling of a typed GPU name, or undefined when it is not a known name. */
export function normalizeGpuName(input: string): string | undefined {
  return byKey.get(lookupKey(input));
}

/**
 * Known names close to what was typed (at most `limit`): the exact match alone if there is one,
 * else names containing the typed text (4090 → RTX 4090, RTX 4090D; H100 → H100 SXM, …), else
 * the nearest misses by edit distance, ties only (RTX_4009 → RTX 4090).
 */
export function suggestGpuNames(input: string, limit = 3): string[] {
  const key = lookupKey(input);
  if (key === '') return [];
  const exact = byKey.get(key);
  if (exact !== undefined) return [exact];

  const containing = KNOWN_GPU_NAMES.filter(name => lookupKey(name).includes(key));
  if (containing.length > 0) return containing.slice(0, limit);

  const distances = KNOWN_GPU_NAMES.map(name => ({name, distance: editDistance(key, lookupKey(name))}));
  const best = Math.min(...distances.map(candidate => candidate.distance));
  if (best > (key.length <= 3 ? 1 : 2)) return [];
  return distances.filter(candidate => candidate.distance === best).slice(0, limit).map(candidate => candidate.name);
}

/**
 * Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of two
 * neighbouring characters each cost 1, so the common "4009 for 4090" typo is one step away.
 */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const columns = b.length + 1;
  const table: number[] = Array.from({length: rows * columns}, () => 0);
  const at = (i: number, j: number): number => table[i * columns + j] ?? 0;
  for (let i = 0; i < rows; i++) table[i * columns] = i;
  for (let j = 0; j < columns; j++) table[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < columns; j++) {
      const substitution = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + substitution);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      table[i * columns + j] = best;
    }
  }
  return at(a.length, b.length);
}
