// Scrolling written once for the overlays that scroll text (the help, the message log): the key
// table part they share, and where a scroll key takes the top row.
import type {KeyAction} from '../keys/key-table.js';

export type ScrollStep = number | 'page' | '-page' | 'top' | 'bottom';

export interface ScrollContext {
  scroll(step: ScrollStep): void;
}

export function scrollKeys(options: {ends?: boolean} = {}): Array<KeyAction<ScrollContext>> {
  return [
    {keys: ['j', 'down'], label: 'scroll', hintKeys: 'j/k', help: 'Scroll down', run: context => context.scroll(1)},
    {keys: ['k', 'up'], help: 'Scroll up', run: context => context.scroll(-1)},
    {keys: ['pagedown', 'space'], label: 'page', hintKeys: 'Space', help: 'Page down', run: context => context.scroll('page')},
    {keys: ['pageup'], help: 'Page up', run: context => context.scroll('-page')},
    ...(options.ends
      ? [
          {keys: ['g', 'home'], help: 'To the top', run: (context: ScrollContext) => context.scroll('top')},
          {keys: ['G', 'end'], help: 'To the bottom', run: (context: ScrollContext) => context.scroll('bottom')},
        ]
      : []),
  ];
}

/** The top row after `step` from `top`, with `page` rows shown and `maxTop` the last top row. */
export function scrolledTop(top: number, step: ScrollStep, page: number, maxTop: number): number {
  const to = step === 'top' ? 0 : step === 'bottom' ? maxTop : top + (step === 'page' ? page : step === '-page' ? -page : step);
  return Math.min(maxTop, Math.max(0, to));
}
