// Asked once when the user quits while LIVE instances bill: leave them running (what they burn
// per hour, and when their autostop ends them — or that nothing does), destroy them all first (outputs and
// logs come home, then each is destroyed and confirmed gone; vastdeck quits when none bills), or
// cancel. A destroy that fails keeps the dashboard open and says why, in full.
import {useEffect, useState} from 'react';
import type {FleetController, InstanceRow, PoliciesSnapshot} from '../core/deck-types.js';
import {Dialog, type DialogLine, type DialogSpec} from './shared/Dialog.js';
import type {FleetActions} from './shared/useFleetActions.js';
import {useModel} from './shared/useModel.js';
import {usd} from './shared/money.js';
import {destroyAllTargets} from './instances/DestroyAllDialog.js';
import {gpuText, instanceName, isGone} from './instances/instance-format.js';

const MAX_LISTED = 5;

/** The rows that bill: every instance not gone (including those being destroyed right now). */
export function billingRows(rows: readonly InstanceRow[]): InstanceRow[] {
  return rows.filter(row => !isGone(row));
}

export function burnPerHour(rows: readonly InstanceRow[]): number {
  return rows.reduce((sum, row) => sum + row.dphTotal, 0);
}

function plural(count: number, one: string, many: string): string {
  return count === 1 ? one : many;
}

/** Clock time (HH:MM, this machine's zone) `minutes` from `nowMs`. */
function clockIn(nowMs: number, minutes: number): string {
  const at = new Date(nowMs + minutes * 60_000);
  return `${String(at.getHours()).padStart(2, '0')}:${String(at.getMinutes()).padStart(2, '0')}`;
}

/**
 * What happens to billing rows left running once vastdeck is gone: their autostop watchdogs end
 * them `idleMinutes` after the last heartbeat (unless a ComfyUI job runs; docs/autostop.md), and
 * rows without one bill until someone destroys them.
 */
export function leftRunningSentence(rows: readonly InstanceRow[], nowMs: number): string {
  const guarded = rows.filter(row => row.autostop);
  const bare = rows.filter(row => !row.autostop);
  const parts: string[] = [];
  if (guarded.length > 0) {
    // A watchdog already counting down (no heartbeat reached it) ends sooner than one vastdeck just fed.
    const endsAtMs = Math.max(...guarded.map(row => row.autostop!.deadlineAtMs ?? nowMs + row.autostop!.config.idleMinutes * 60_000));
    const latest = Math.max(0, Math.ceil((endsAtMs - nowMs) / 60_000));
    const stops = guarded.filter(row => row.autostop!.config.action === 'stop').length;
    const who = bare.length === 0 ? plural(guarded.length, 'it', 'they') : `${guarded.length} with autostop`;
    parts.push(`${who} ${plural(guarded.length, 'ends', 'end')} ${plural(guarded.length, 'itself', 'themselves')} within ${latest} min of quitting (by ${clockIn(nowMs, latest)}) unless a ComfyUI job runs${stops > 0 ? ` (${stops} only stop${stops === 1 ? 's' : ''}: storage bills on)` : ''}`);
  }
  if (bare.length > 0) parts.push(`${guarded.length === 0 ? plural(bare.length, 'it', 'they') : `${bare.length} without autostop`} ${plural(bare.length, 'bills', 'bill')} until destroyed: nothing stops ${plural(bare.length, 'it', 'them')} when vastdeck quits`);
  return `Left running, ${parts.join('; ')}.`;
}

/** The line the CLI prints after the dashboard closes: what still bills, or that nothing does. */
export function billingAfterQuit(rows: readonly InstanceRow[], mode: 'demo' | 'live', nowMs = Date.now()): string {
  if (mode === 'demo') return 'vastdeck: demo ended; its simulated instances ended with it and nothing was billed.';
  const billing = billingRows(rows);
  if (billing.length === 0) return 'vastdeck: no instance of this session is billing.';
  const ids = billing.map(instanceName).join(', ');
  return `vastdeck: ${billing.length} ${plural(billing.length, 'instance is', 'instances are')} still billing (${usd(burnPerHour(billing))}/h): ${ids}. ${leftRunningSentence(billing, nowMs)} \`vastdeck down --all\` destroys ${plural(billing.length, 'it', 'them')} now.`;
}

function listLines(rows: readonly InstanceRow[]): DialogLine[] {
  const listed = rows.slice(0, MAX_LISTED).map(row => ({text: `  ${instanceName(row)} · ${gpuText(row)} · ${usd(row.dphTotal)}/h · ${row.cleanup ? row.cleanup.message : row.stage.stage}`, tone: 'muted' as const}));
  return rows.length > MAX_LISTED ? [...listed, {text: `  … and ${rows.length - MAX_LISTED} more`, tone: 'muted'}] : listed;
}

function policyLine(policies: PoliciesSnapshot): DialogLine[] {
  const on = [policies.destroyWhenDrained ? 'destroy when drained' : '', policies.idleMinutes > 0 ? `idle ${policies.idleMinutes} min` : '', policies.spendCapUsd > 0 ? 'the spend cap' : ''].filter(Boolean);
  return on.length > 0 ? [{text: `The auto-destroy policies (${on.join(', ')}) act only while the dashboard runs.`, tone: 'warn'}] : [];
}

interface QuitDialogProps {
  fleet: FleetController;
  policies: PoliciesSnapshot;
  actions: FleetActions;
  width: number;
  maxHeight: number;
  onClose(): void;
  onQuit(): void;
}

export function QuitDialog({fleet, policies, actions, width, maxHeight, onClose, onQuit}: QuitDialogProps) {
  const snapshot = useModel(fleet);
  const [destroying, setDestroying] = useState(false);
  const billing = billingRows(snapshot.rows);
  const failed = billing.filter(row => row.cleanup?.failed);

  const done = destroying && billing.length === 0;
  useEffect(() => {
    if (done) onQuit();
  }, [done, onQuit]);

  const spec: DialogSpec = destroying
    ? {
        title: failed.length > 0 ? `${failed.length} ${plural(failed.length, 'instance was', 'instances were')} not destroyed` : `Destroying ${billing.length} ${plural(billing.length, 'instance', 'instances')}, then quitting…`,
        tone: 'bad',
        lines: [
          ...listLines(billing),
          {text: ''},
          ...failed.map(row => ({text: row.cleanup?.message ?? '', tone: 'bad' as const})),
          {text: failed.length > 0 ? 'vastdeck stays open so you can fix it (m shows every message).' : 'Outputs and logs come home first; vastdeck quits once none is billing.', tone: 'muted'},
        ],
        buttons: [
          {label: 'Keep the dashboard', keys: ['n']},
          {label: 'Quit now, leave them billing', keys: ['q'], onChoose: onQuit},
        ],
      }
    : {
        title: `Quit with ${billing.length} ${plural(billing.length, 'instance', 'instances')} billing ${usd(burnPerHour(billing))}/h?`,
        tone: 'bad',
        lines: [
          ...listLines(billing),
          {text: ''},
          {text: `${leftRunningSentence(billing, Date.now())} Until then: ${usd(burnPerHour(billing))}/h (\`vastdeck down --all\` or the Vast console destroys them).`, tone: 'warn'},
          ...policyLine(policies),
        ],
        buttons: [
          {label: 'Cancel', keys: ['n']},
          {label: 'Leave running', keys: ['l'], onChoose: onQuit},
          {
            label: 'Destroy all, then quit',
            keys: ['d'],
            keepOpen: true,
            onChoose: () => {
              for (const row of destroyAllTargets(fleet.getSnapshot().rows)) actions.destroy(row.key);
              setDestroying(true);
            },
          },
        ],
      };
  return <Dialog key={destroying ? 'destroying' : 'ask'} spec={spec} width={width} maxHeight={maxHeight} onClose={onClose} />;
}
