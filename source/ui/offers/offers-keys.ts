// The Offers pane's keys, next to what they do (the pane supplies the context): list navigation,
// sort, filter, refresh, rent, and rent with an OnStart job; and the filter editor's keys.
import type {KeyTable} from '../keys/key-table.js';
import {EDITOR_KEYS, type EditorContext} from '../shared/TextInput.js';
import {listKeys, type ListContext} from '../shared/useListSelection.js';

export interface OffersKeyContext extends ListContext {
  sort(): void;
  refresh(): void;
  editFilter(): void;
  rent(): void;
  rentWithOnstart(): void;
}

export const OFFERS_KEYS: KeyTable<OffersKeyContext> = {
  title: 'Offers pane',
  actions: [
    ...listKeys('offer', 'offers', {paging: true}),
    {keys: ['s'], label: 'sort', help: 'Sort by the next key (job cost, ETA …), from the top', run: context => context.sort()},
    {keys: ['/', 'f'], label: 'filter', help: 'Edit the filter expression', run: context => context.editFilter(), switchesView: true},
    {keys: ['r'], label: 'refresh', help: 'Refresh the offers now', run: context => context.refresh()},
    {keys: ['c'], label: 'rent', help: 'Rent the selected offer (asks first)', run: context => context.rent(), switchesView: true},
    {keys: ['O'], help: 'Rent with an OnStart job (runs at boot, no polling)', run: context => context.rentWithOnstart(), switchesView: true},
  ],
};

export interface FilterKeyContext extends EditorContext {
  apply(): void;
  cancel(): void;
}

export const FILTER_KEYS: KeyTable<FilterKeyContext> = {
  title: 'Offer filter editor',
  actions: [
    {keys: ['enter'], label: 'apply', help: 'Apply, e.g. gpu=RTX_4090 dph<0.6 inet_down>500', run: context => context.apply(), switchesView: true},
    {keys: ['escape'], label: 'cancel', help: 'Close the editor, keep the old filter', run: context => context.cancel(), switchesView: true},
    ...EDITOR_KEYS,
  ],
};
