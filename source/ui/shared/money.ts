// Money in a narrow cell or a short line: prices per hour or per GB, and small sums spent, carry
// no meaning beyond four decimals ($0.0893, $0.0123, $0.00).
import {formatUsd} from '../../core/format.js';

export function compactUsd(usd: number): string {
  return formatUsd(Math.round(usd * 10_000) / 10_000);
}
