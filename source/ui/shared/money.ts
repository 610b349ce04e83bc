// Money as the dashboard writes it, everywhere the same way: three significant digits below $1
// ($0.0893, $0.00451, $0.50; two below a tenth of a cent), cents from $1 up ($25.00), "$0" for
// nothing at all, and "<$0.0001" for dust, so a column never shows $0.00 beside $0.0001.
const SMALLEST = 0.0001;

export function usd(amount: number): string {
  if (Number.isNaN(amount)) return '—';
  if (!Number.isFinite(amount)) return amount > 0 ? '∞' : '-∞';
  if (amount < 0) return `-${usd(-amount)}`;
  if (amount === 0) return '$0';
  if (amount < SMALLEST) return '<$0.0001';
  if (amount >= 1) return `$${amount.toFixed(2)}`;
  const decimals = Math.min(5, Math.max(2, 2 - Math.floor(Math.log10(amount))));
  // Keep two decimals at least (0.50), drop zeros beyond them (0.00300 → 0.003).
  return `$${amount.toFixed(decimals).replace(/(\.\d\d\d*?)0+$/, '$1')}`;
}
