// The dashboard's building blocks on their own: text fitting, the windowed Table, the line
// editor, the progress bar and the key tables.
import {Box} from 'ink';
import {cleanup, render} from 'ink-testing-library';
import {afterEach, describe, expect, it} from 'vitest';
import {dialogBody} from '../../source/ui/shared/Dialog.js';
import {ProgressBar} from '../../source/ui/shared/ProgressBar.js';
import {fitColumns, Table, windowStart, type Column} from '../../source/ui/shared/Table.js';
import {editLine, lineAtEnd, TextInput} from '../../source/ui/shared/TextInput.js';
import {HELP_TABLES} from '../../source/ui/help-tables.js';
import {characterKey} from '../../source/ui/keys/key-parser.js';
import {findAction, hintsOf} from '../../source/ui/keys/key-table.js';
import {FILTER_KEYS, OFFERS_KEYS} from '../../source/ui/offers/offers-keys.js';
import {LOG_KEYS} from '../../source/ui/instances/instances-keys.js';
import {layoutFor} from '../../source/ui/layout.js';
import {fit, truncate, wrapWords} from '../../source/ui/shared/text-fit.js';

afterEach(() => cleanup());

describe('text fitting', () => {
  it('truncates with an ellipsis and pads to the exact width', () => {
    expect(truncate('RTX 4090', 5)).toBe('RTX …');
    expect(truncate('RTX', 5)).toBe('RTX');
    expect(fit('ab', 4)).toBe('ab  ');
    expect(fit('ab', 4, 'right')).toBe('  ab');
    expect(fit('abcdef', 4, 'right')).toBe('abc…');
    expect(fit('x', 0)).toBe('');
  });

  it('wraps at word boundaries without leading spaces, cutting words longer than a line', () => {
    expect(wrapWords('No generation jobs. The queue is not built yet.', 20)).toEqual(['No generation jobs.', 'The queue is not', 'built yet.']);
    expect(wrapWords('abcdefghij', 4)).toEqual(['abcd', 'efgh', 'ij']);
  });
});

interface Row {
  id: number;
  name: string;
}

const columns: Array<Column<Row>> = [
  {key: 'id', header: 'Id', width: 4, align: 'right', format: row => String(row.id), priority: 0},
  {key: 'name', header: 'Name', width: 8, format: row => row.name, priority: 0, grow: true},
  {key: 'extra', header: 'Extra', width: 10, format: () => 'extra', priority: 2},
];

describe('Table', () => {
  it('drops the highest-priority-number columns first and gives spare width to growing ones', () => {
    expect(fitColumns(columns, 40).map(column => [column.key, column.width])).toEqual([['id', 4], ['name', 24], ['extra', 10]]);
    expect(fitColumns(columns, 20).map(column => [column.key, column.width])).toEqual([['id', 4], ['name', 15]]);
  });

  it('keeps the window still while the selection is inside it, and moves it just enough otherwise', () => {
    expect(windowStart(0, 3, 5, 100)).toBe(0);
    expect(windowStart(0, 5, 5, 100)).toBe(1);
    expect(windowStart(10, 12, 5, 100)).toBe(10);
    expect(windowStart(10, 2, 5, 100)).toBe(2);
    expect(windowStart(98, 99, 5, 100)).toBe(95);
    expect(windowStart(7, 1, 5, 3)).toBe(0);
  });

  it('renders the header and only the visible rows, truncating long cells instead of wrapping', () => {
    const rows = Array.from({length: 200}, (_unused, index) => ({id: index + 1, name: index === 150 ? 'a-very-long-name-indeed' : `row${index + 1}`}));
    const {lastFrame} = render(
      <Box width={20}>
        <Table columns={columns} rows={rows} rowKey={row => row.id} selectedIndex={150} height={4} width={20} />
      </Box>,
    );
    const lines = (lastFrame() ?? '').split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[0]).toContain('Name');
    expect(lines.at(-1)).toBe(' 151 a-very-long-na…');
    expect(lines.join('\n')).not.toContain('row100');
  });
});

describe('line editor', () => {
  it('types, moves, deletes and clears', () => {
    let line = lineAtEnd('gpu=');
    line = editLine(line, {insert: 'RTX_4090'});
    expect(line).toEqual({value: 'gpu=RTX_4090', cursor: 12});
    line = editLine(editLine(line, 'home'), 'right');
    line = editLine(line, 'backspace');
    expect(line).toEqual({value: 'pu=RTX_4090', cursor: 0});
    expect(editLine(line, 'backspace')).toBe(line);
    expect(editLine(line, 'delete')).toEqual({value: 'u=RTX_4090', cursor: 0});
    line = editLine(editLine(line, 'end'), 'left');
    expect(line.cursor).toBe(10);
    expect(editLine(line, {insert: 'a\nb'}).value).toBe('pu=RTX_409a b0');
    expect(editLine(line, {insert: 'x\u0007\u001B[Ay'}).value).toBe('pu=RTX_409x[Ay0');
    expect(editLine(line, 'clear')).toEqual({value: '', cursor: 0});
  });

  it('scrolls a long line sideways so the cursor stays visible', () => {
    const {lastFrame} = render(<TextInput label="Filter:" state={lineAtEnd('x'.repeat(50) + 'END')} width={30} />);
    expect(lastFrame()).toContain('END');
    expect(lastFrame()?.length).toBeLessThanOrEqual(30);
  });
});

describe('Dialog', () => {
  it('wraps its lines and cuts them with … when the screen is short', () => {
    const lines = [{text: 'one two three four five six'}, {text: ''}, {text: 'seven eight'}];
    expect(dialogBody(lines, 10, 10).map(line => line.text)).toEqual(['one two', 'three four', 'five six', '', 'seven', 'eight']);
    expect(dialogBody(lines, 10, 3).map(line => line.text)).toEqual(['one two', 'three four', '…']);
  });
});

describe('ProgressBar', () => {
  it('fills in proportion and clamps', () => {
    expect(render(<ProgressBar fraction={0.5} width={10} />).lastFrame()).toBe('█████░░░░░  50%');
    expect(render(<ProgressBar fraction={7} width={4} showPercent={false} />).lastFrame()).toBe('████');
    expect(render(<ProgressBar fraction={Number.NaN} width={4} />).lastFrame()).toBe('░░░░   0%');
  });
});

describe('key tables', () => {
  const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/?-=<>![]'.split('').map(characterKey);
  const named = ['up', 'down', 'left', 'right', 'pageup', 'pagedown', 'home', 'end', 'enter', 'escape', 'tab', 'backtab', 'backspace', 'delete', 'space', 'f1', 'ctrl-a', 'ctrl-c', 'ctrl-e', 'ctrl-u'].map(name => ({name, text: name === 'space' ? ' ' : ''}));

  it('never names one key in two actions of a table', () => {
    for (const table of HELP_TABLES) {
      for (const key of [...letters, ...named]) {
        const naming = table.actions.filter(action => action.keys.includes(key.name));
        expect(naming.length, `${table.title}: ${key.name}`).toBeLessThanOrEqual(1);
      }
    }
  });

  it('sends typed letters to an open filter editor as text, and Enter to apply', () => {
    const calls: string[] = [];
    const context = {edit: (change: unknown) => calls.push(JSON.stringify(change)), apply: () => calls.push('apply'), cancel: () => calls.push('cancel')};
    for (const key of [characterKey('q'), characterKey('X'), characterKey('?'), characterKey('\r')]) findAction(FILTER_KEYS, context, key)?.run(context, key);
    expect(calls).toEqual(['{"insert":"q"}', '{"insert":"X"}', '{"insert":"?"}', 'apply']);
  });

  it('has help lines short enough for one line of the help overlay', () => {
    for (const table of HELP_TABLES) for (const action of table.actions) expect(action.help.length, action.help).toBeLessThanOrEqual(53);
  });

  it('takes the status-bar hints from the table', () => {
    const list = {move: () => {}, page: () => {}, top: () => {}, bottom: () => {}};
    const offers = {list, sort: () => {}, refresh: () => {}, editFilter: () => {}, rent: () => {}, rentWithOnstart: () => {}};
    expect(hintsOf(OFFERS_KEYS, offers).map(hint => `${hint.keys} ${hint.label}`)).toEqual(['j/k move', 's sort', '/ filter', 'r refresh', 'c rent']);
    expect(hintsOf(FILTER_KEYS, {edit: () => {}, apply: () => {}, cancel: () => {}}).map(hint => hint.keys)).toEqual(['Enter', 'Esc', 'Ctrl-U']);
    expect(hintsOf(LOG_KEYS, {} as never).map(hint => hint.keys)).toEqual(['Esc', 'j/k', 'G', '/', 'w', 't', 'S', 'p', '[ ]']);
  });
});

describe('layout', () => {
  it('puts Instances and Queue side by side when wide, stacks them when narrow, and drops them when short', () => {
    const wide = layoutFor(200, 60, 72, 40);
    expect(wide.height).toBe(59);
    expect(wide.bottomDirection).toBe('row');
    expect(wide.offers.height + wide.instances.height).toBe(wide.body.height);
    const narrow = layoutFor(60, 30, 72, 40);
    expect(narrow.bottomDirection).toBe('column');
    expect(narrow.instances.width).toBe(60);
    expect(layoutFor(80, 10, 72, 40).instances.height).toBe(0);
  });

  it('gives Instances half the height and the wider share once it has instances (full width below 100 columns)', () => {
    const wide = layoutFor(120, 32, 72, 40, {roomy: 'instances'});
    expect(wide.bottomDirection).toBe('row');
    expect(wide.instances).toEqual({width: 78, height: 14});
    expect(wide.offers.height).toBe(14);
    const small = layoutFor(80, 24, 72, 40, {roomy: 'instances'});
    expect(small.bottomDirection).toBe('column');
    expect(small.offers.height).toBe(10);
    expect(small.instances).toEqual({width: 80, height: 7});
    expect(small.queue.height).toBe(3);
  });

  it('gives Queue the room instead when it is the roomy pane, and takes a banner row from the body', () => {
    const wide = layoutFor(120, 32, 72, 40, {roomy: 'queue'});
    expect(wide.queue).toEqual({width: 78, height: 14});
    expect(wide.instances.width).toBe(42);
    const small = layoutFor(80, 24, 72, 40, {roomy: 'queue'});
    expect(small.instances.height).toBe(3);
    expect(small.queue.height).toBe(7);
    const banner = layoutFor(80, 24, 72, 40, {roomy: 'queue', bannerRows: 1});
    expect(banner.body.height).toBe(small.body.height - 1);
    expect(banner.height).toBe(23);
  });
});

describe('formats', () => {
  it('writes money with three significant digits below $1, cents above, $0 for nothing and <$0.0001 for dust', async () => {
    const {usd} = await import('../../source/ui/shared/money.js');
    expect([0, 0.00003, 0.0001, 0.00451, 0.0893, 0.5, 0.102, 1, 25].map(usd)).toEqual(['$0', '<$0.0001', '$0.0001', '$0.00451', '$0.0893', '$0.50', '$0.102', '$1.00', '$25.00']);
  });

  it('writes a place without its blank city, rates in Mbps and cloud times on the wall clock', async () => {
    const {placeText} = await import('../../source/ui/offers/offer-columns.js');
    const {downloadFigures} = await import('../../source/ui/instances/instance-format.js');
    expect([', US', 'Oregon, US', '', ' , '].map(placeText)).toEqual(['US', 'Oregon, US', '?', '?']);
    const download = {pct: 43, rateBytesPerSec: 1_000_000, etaSec: 100, bytesDone: 1, filesDone: 0, file: 'model.safetensors', stalled: false, resumed: false};
    expect(downloadFigures(download)[0]).toBe('43% 8Mbps 1m40s');
    // The demo's cloud runs 10× fast: its tool says 100 s left, the wall clock 10 s; its rate is 10× too.
    expect(downloadFigures(download, 10)[0]).toBe('43% 80Mbps 10s');
  });
});
