// `vastdeck spend [--json]`: what was spent, as Vast bills it — per instance on the account (whoever
// created it: this install's from the ledger's billing records, everyone else's from the API's own
// timestamps alone), per destroyed instance of this install, per job (outputs/*/job.json), the
// latest session, all time (the ledger), the account's balance, the burn rate and how long the
// balance lasts at it. Listing the account also brings this install's billing records up to date.
import {formatDuration, formatUsd} from '../core/format.js';
import {toVastdeckError} from '../core/errors.js';
import {readJobCosts, type JobCostRecord} from '../core/money/job-costs.js';
import type {AccountInstanceSpend} from '../core/money/spend-book.js';
import {reconcileAccount} from '../core/usecases/reconcile.js';
import {parseArgs} from './args.js';
import {withSession, type Io} from './command-io.js';
import {formatTextTable} from './text-table.js';
import {printReconcile} from './watching.js';

export async function runSpendCommand(argv: readonly string[], io: Io): Promise<number> {
  const {flags} = parseArgs('spend', argv, {json: {kind: 'boolean'}, demo: {kind: 'boolean'}, live: {kind: 'boolean'}});
  const json = flags.json === true;
  return withSession(io, flags, async ({ctx}) => {
    const account = await reconcileAccount(ctx);
    if (!json) printReconcile(io, account.messages.filter(message => message.level === 'warn'));
    let balanceUsd: number | undefined;
    let balanceProblem: string | undefined;
    try {
      balanceUsd = (await ctx.client.currentUser()).balanceUsd;
    } catch (error) {
      balanceProblem = toVastdeckError(error).message;
    }
    const summary = ctx.spend.summary();
    const jobs = await readJobCosts(ctx.outputsRoot());
    const latest = ctx.spend.latestSession();
    const session = latest && {...latest, ...ctx.spend.sessionSpend(latest, summary.cloudNowSec), running: latest.endedAtMs === undefined && alive(latest.pid)};
    const runwayHours = balanceUsd !== undefined && summary.burnUsdPerHour > 0 ? Math.max(0, balanceUsd) / summary.burnUsdPerHour : undefined;
    const instance = (row: AccountInstanceSpend) => ({
      id: row.instanceId,
      spentUsd: round(row.spend.totalUsd),
      state: row.state,
      ours: row.ours,
      label: row.label,
      gpu: row.gpuName,
      burnUsdPerHour: round(row.spend.burnUsdPerHour),
      storageUsd: round(row.spend.storageUsd),
      gpuUsd: round(row.spend.gpuUsd),
      bandwidthUsd: round(row.spend.bandwidthUsd),
      downloadedGb: Math.round(row.spend.downloadedGb * 1000) / 1000,
      gpuSeconds: Math.round(row.spend.gpuSec),
    });
    if (json) {
      io.stdout.write(
        `${JSON.stringify({
          cloudTime: new Date(summary.cloudNowSec * 1000).toISOString(),
          balanceUsd: balanceUsd ?? null,
          ...(balanceProblem ? {balanceProblem} : {}),
          burnUsdPerHour: round(summary.burnUsdPerHour),
          runwayHours: runwayHours === undefined ? null : Math.round(runwayHours * 100) / 100,
          instances: summary.onAccount.map(instance),
          ended: summary.ended.map(instance),
          jobs: jobs.map(job => ({id: job.id, instanceId: job.instanceId ?? null, costUsd: job.costUsd === undefined ? null : round(job.costUsd), workflow: job.workflow ?? null, finishedAt: job.finishedAt ?? null})),
          session: session
            ? {id: session.id, kind: session.kind, startedAt: new Date(session.startedAtMs).toISOString(), running: session.running, spentUsd: round(session.spentUsd), burnUsdPerHour: round(session.burnUsdPerHour), capUsd: session.capUsd}
            : null,
          allTimeUsd: round(summary.allTimeUsd),
        })}\n`,
      );
      return 0;
    }
    const lines: string[] = [];
    if (summary.onAccount.length === 0) lines.push('No instance is on the account: nothing bills.');
    else {
      lines.push('On the account now:');
      lines.push(...formatTextTable(INSTANCE_COLUMNS, summary.onAccount).map(line => `  ${line}`));
    }
    if (summary.ended.length > 0) {
      const total = summary.ended.reduce((sum, row) => sum + row.spend.totalUsd, 0);
      lines.push('', `Destroyed or gone (this install): ${summary.ended.length}, ${formatUsd(round(total))} in all; the last ${Math.min(10, summary.ended.length)}:`);
      lines.push(...formatTextTable(INSTANCE_COLUMNS, summary.ended.slice(-10)).map(line => `  ${line}`));
    }
    lines.push('', jobLine(jobs));
    if (session) {
      const cap = session.capUsd > 0 ? ` of a ${formatUsd(session.capUsd)} cap` : '';
      lines.push(`Session (${session.kind}, ${session.running ? 'running' : 'ended'}, started ${new Date(session.startedAtMs).toISOString().slice(0, 16).replace('T', ' ')}): ${formatUsd(round(session.spentUsd))}${cap}.`);
    }
    lines.push(`All time (this install's ledger): ${formatUsd(round(summary.allTimeUsd))}.`);
    lines.push(`Burn: ${formatUsd(round(summary.burnUsdPerHour))}/h for everything on the account.`);
    if (balanceUsd === undefined) lines.push(`Balance: unknown (${balanceProblem ?? 'no answer'}).`);
    else lines.push(`Balance: ${formatUsd(balanceUsd)}${runwayHours === undefined ? '; nothing bills now.' : `; at this burn it runs out in ${formatDuration(runwayHours * 3600)}.`}`);
    io.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  });
}

const INSTANCE_COLUMNS = [
  {header: 'ID', value: (row: AccountInstanceSpend) => String(row.instanceId), align: 'right' as const},
  {header: 'GPU', value: (row: AccountInstanceSpend) => row.gpuName, maxWidth: 18},
  {header: 'STATE', value: (row: AccountInstanceSpend) => row.state},
  {header: 'WHOSE', value: (row: AccountInstanceSpend) => (row.ours ? 'this install' : 'other')},
  {header: 'SPENT', value: (row: AccountInstanceSpend) => formatUsd(round(row.spend.totalUsd)), align: 'right' as const},
  {header: 'GPU $', value: (row: AccountInstanceSpend) => formatUsd(round(row.spend.gpuUsd)), align: 'right' as const},
  {header: 'DISK $', value: (row: AccountInstanceSpend) => formatUsd(round(row.spend.storageUsd)), align: 'right' as const},
  {header: 'NET $', value: (row: AccountInstanceSpend) => formatUsd(round(row.spend.bandwidthUsd)), align: 'right' as const},
  {header: 'BURN/H', value: (row: AccountInstanceSpend) => formatUsd(round(row.spend.burnUsdPerHour)), align: 'right' as const},
];

function jobLine(jobs: readonly JobCostRecord[]): string {
  const priced = jobs.filter(job => job.costUsd !== undefined);
  if (jobs.length === 0) return 'Jobs: none in the outputs folder.';
  const total = priced.reduce((sum, job) => sum + job.costUsd!, 0);
  const last = priced.slice(-5).map(job => `${job.id} ${formatUsd(round(job.costUsd!))}`).join(', ');
  return `Jobs: ${jobs.length} in the outputs folder, ${formatUsd(round(total))} in all (their instance time and downloads)${last ? `; the last: ${last}` : ''}.`;
}

function round(usd: number): number {
  return Math.round(usd * 1_000_000) / 1_000_000;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
