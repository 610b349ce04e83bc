import {describe, expect, it} from 'vitest';
import {formatTextTable} from '../../source/commands/text-table.js';
import {formatDuration, formatMbps, formatPercent, formatUsd} from '../../source/core/format.js';

describe('formatUsd', () => {
  it('shows cents from a dollar up and three significant digits below', () => {
    expect(formatUsd(0.0123)).toBe('$0.0123');
    expect(formatUsd(0.087)).toBe('$0.087');
    expect(formatUsd(0.5)).toBe('$0.50');
    expect(formatUsd(0.1)).toBe('$0.10');
    expect(formatUsd(0.003)).toBe('$0.003');
    expect(formatUsd(0.0583333)).toBe('$0.0583');
    expect(formatUsd(0.9996)).toBe('$1.00');
    expect(formatUsd(1.5)).toBe('$1.50');
    expect(formatUsd(12.345)).toBe('$12.35');
    expect(formatUsd(0)).toBe('$0.00');
    expect(formatUsd(-0.25)).toBe('-$0.25');
  });

  it('shows a cost that never comes as ∞', () => {
    expect(formatUsd(Infinity)).toBe('∞');
    expect(formatUsd(Number.NaN)).toBe('—');
  });
});

describe('formatDuration', () => {
  it('writes seconds, minutes, hours and days compactly', () => {
    expect(formatDuration(250)).toBe('4m10s');
    expect(formatDuration(45)).toBe('45s');
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(59.6)).toBe('1m00s');
    expect(formatDuration(305)).toBe('5m05s');
    expect(formatDuration(3725)).toBe('1h02m'); // 3600 + 2×60 + 5
    expect(formatDuration(183_600)).toBe('2d03h'); // 2×86400 + 3×3600
    expect(formatDuration(Infinity)).toBe('∞');
  });
});

describe('formatMbps and formatPercent', () => {
  it('rounds bandwidth to whole Mbit/s from 100 up', () => {
    expect(formatMbps(512.4)).toBe('512 Mbps');
    expect(formatMbps(45.55)).toBe('45.5 Mbps');
    expect(formatMbps(0)).toBe('0 Mbps');
  });

  it('shows a fraction as a percentage with one decimal', () => {
    expect(formatPercent(0.9876)).toBe('98.8%');
    expect(formatPercent(1)).toBe('100.0%');
  });
});

describe('formatTextTable', () => {
  it('sizes columns to their widest cell, right-aligns figures and cuts long cells', () => {
    const lines = formatTextTable(
      [
        {header: 'name', value: (row: {name: string; price: string}) => row.name, maxWidth: 6},
        {header: 'price', value: row => row.price, align: 'right'},
      ],
      [
        {name: 'short', price: '$1.00'},
        {name: 'a much longer name', price: '$12.50'},
      ],
    );
    expect(lines).toEqual([
      'name     price',
      'short    $1.00',
      'a muc…  $12.50',
    ]);
  });
});
