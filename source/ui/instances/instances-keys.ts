// The Instances view's keys, next to what they do: the instance list (navigation, the log view,
// the portal secret, destroy one or all), the open log view, and the log filter editor. The
// components supply the contexts.
import type {KeyTable} from '../keys/key-table.js';
import {EDITOR_KEYS, type EditorContext} from '../shared/TextInput.js';
import {listKeys, type ListContext} from '../shared/useListSelection.js';

export interface PortalKeyContext {
  togglePortal(): void;
  copyToken(): void;
  openPortal(): void;
}

export interface InstancesKeyContext extends ListContext, PortalKeyContext {
  hasSelection(): boolean;
  openLog(): void;
  noSshKey(): boolean;
  createKey(): void;
  destroy(): void;
  destroyAll(): void;
}

export const INSTANCES_KEYS: KeyTable<InstancesKeyContext> = {
  title: 'Instances pane',
  actions: [
    ...listKeys('instance', 'instances'),
    {keys: ['enter', 'l'], label: 'log', hintKeys: 'Enter', help: "Open the instance's stages and live log", when: context => context.hasSelection(), run: context => context.openLog(), switchesView: true},
    {keys: ['p'], label: 'portal', help: 'Show or hide the portal URLs and token (secret)', when: context => context.hasSelection(), run: context => context.togglePortal()},
    {keys: ['y'], help: 'Copy the portal token to the clipboard (OSC 52)', run: context => context.copyToken()},
    {keys: ['o'], help: 'Open ComfyUI in the browser (log in with the token)', run: context => context.openPortal()},
    {keys: ['K'], label: 'create key', help: 'No SSH key yet: create ~/.ssh/vastdeck_ed25519 (asks)', when: context => context.noSshKey(), run: context => context.createKey(), switchesView: true},
    {keys: ['d'], label: 'destroy', help: 'Destroy the instance (brings outputs home first)', run: context => context.destroy(), dangerous: true, switchesView: true},
    {keys: ['D'], label: 'destroy all', help: 'Destroy ALL instances (type destroy to confirm)', run: context => context.destroyAll(), dangerous: true, switchesView: true},
  ],
};

export interface LogKeyContext extends PortalKeyContext {
  back(): void;
  scroll(delta: number | 'page' | '-page'): void;
  top(): void;
  follow(): void;
  editFilter(): void;
  toggleWrap(): void;
  toggleTags(): void;
  save(): void;
  step(delta: 1 | -1): void;
}

export const LOG_KEYS: KeyTable<LogKeyContext> = {
  title: 'Instance stages and log (Enter on an instance)',
  actions: [
    {keys: ['escape'], label: 'back', help: 'Clear the filter, else back to the instance list', run: context => context.back(), switchesView: true},
    {keys: ['j', 'down'], label: 'scroll', hintKeys: 'j/k', help: 'Scroll down (follows the tail again at the bottom)', run: context => context.scroll(1)},
    {keys: ['k', 'up'], help: 'Scroll up (stops following the tail)', run: context => context.scroll(-1)},
    {keys: ['pagedown'], help: 'Page down', run: context => context.scroll('page')},
    {keys: ['pageup'], help: 'Page up (stops following the tail)', run: context => context.scroll('-page')},
    {keys: ['g', 'home'], help: 'Jump to the oldest line held', run: context => context.top()},
    {keys: ['G', 'end'], label: 'follow', hintKeys: 'G', help: 'Follow the tail (autoscroll)', run: context => context.follow()},
    {keys: ['/'], label: 'filter', help: 'Filter the log lines (case-insensitive text)', run: context => context.editFilter(), switchesView: true},
    {keys: ['w'], label: 'wrap', help: 'Wrap long lines, or cut them with …', run: context => context.toggleWrap()},
    {keys: ['t'], label: 'tags', help: 'Show or hide times and file tags', run: context => context.toggleTags()},
    {keys: ['S'], label: 'save', help: 'Save the log to a file', run: context => context.save()},
    {keys: ['p'], label: 'portal', help: 'Show or hide the portal URLs and token (secret)', run: context => context.togglePortal()},
    {keys: ['y'], help: 'Copy the portal token to the clipboard (OSC 52)', run: context => context.copyToken()},
    {keys: ['o'], help: 'Open ComfyUI in the browser (log in with the token)', run: context => context.openPortal()},
    {keys: [']'], label: 'instance', hintKeys: '[ ]', help: "Show the next instance's log", run: context => context.step(1)},
    {keys: ['['], help: "Show the previous instance's log", run: context => context.step(-1)},
  ],
};

export interface LogFilterKeyContext extends EditorContext {
  keep(): void;
  clear(): void;
}

export const LOG_FILTER_KEYS: KeyTable<LogFilterKeyContext> = {
  title: 'Log filter editor',
  actions: [
    {keys: ['enter'], label: 'keep', help: 'Keep the filter and go back to the log keys', run: context => context.keep(), switchesView: true},
    {keys: ['escape'], label: 'clear filter', help: 'Clear the filter', run: context => context.clear(), switchesView: true},
    ...EDITOR_KEYS,
  ],
};
