// How vastdeck writes money, durations, bandwidth and fractions for people. Shared by the
// dashboard panes and the plain-text subcommands so a figure reads the same everywhere.
// Non-finite figures (a job that never gets ready) print as '∞'.

/** Dollars: cents from $1 up; below that three significant digits, e.g. $0.0123, $0.50, $0.003. */
export function formatUsd(usd: number): string {
  if (Number.isNaN(usd)) return '—';
  if (!Number.isFinite(usd)) return usd > 0 ? '∞' : '-∞';
  if (usd < 0) return `-${formatUsd(-usd)}`;
  if (usd === 0 || usd >= 1) return `$${usd.toFixed(2)}`;
  const decimals = Math.min(6, Math.max(2, 2 - Math.floor(Math.log10(usd))));
  return `$${keepTwoDecimals(usd.toFixed(decimals))}`;
}

/** Strip trailing zeros beyond the second decimal: 0.500 → 0.50, 0.00300 → 0.003. */
function keepTwoDecimals(text: string): string {
  return text.replace(/(\.\d\d\d*?)0+$/, '$1');
}

/** Seconds as 45s, 4m10s, 1h02m, 2d03h (rounded to the second; '∞' for never). */
export function formatDuration(seconds: number): string {
  if (Number.isNaN(seconds)) return '—';
  if (!Number.isFinite(seconds)) return '∞';
  const total = Math.max(0, Math.round(seconds));
  const pad = (value: number): string => String(value).padStart(2, '0');
  if (total < 60) return `${total}s`;
  if (total < 3600) return `${Math.floor(total / 60)}m${pad(total % 60)}s`;
  if (total < 86_400) return `${Math.floor(total / 3600)}h${pad(Math.floor((total % 3600) / 60))}m`;
  return `${Math.floor(total / 86_400)}d${pad(Math.floor((total % 86_400) / 3600))}h`;
}

/** Bandwidth in Mbit/s: whole numbers from 100 up, one decimal below, e.g. 512 Mbps, 45.5 Mbps. */
export function formatMbps(mbps: number): string {
  if (!Number.isFinite(mbps)) return '—';
  const value = mbps >= 100 ? Math.round(mbps) : Number(mbps.toFixed(1));
  return `${value} Mbps`;
}

/** A 0..1 fraction as a percentage with one decimal, e.g. 0.9876 → 98.8%. */
export function formatPercent(fraction: number): string {
  if (!Number.isFinite(fraction)) return '—';
  return `${(fraction * 100).toFixed(1)}%`;
}
