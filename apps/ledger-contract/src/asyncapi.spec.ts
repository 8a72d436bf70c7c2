import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { asyncApiDocument } from '@spine/events';
import { ledgerCatalog } from './ledger.catalog';

describe('AsyncAPI document', () => {
  it('is the checked-in docs/asyncapi.json (regenerate with npm run asyncapi)', () => {
    const onDisk = JSON.parse(readFileSync(resolve(__dirname, '../../../docs/asyncapi.json'), 'utf8')) as unknown;
    expect(onDisk).toEqual(asyncApiDocument(ledgerCatalog));
  });

  it('has a message per event type on the topic of its subject type', () => {
    const doc = asyncApiDocument(ledgerCatalog) as {
      channels: Record<string, { address: string; messages: Record<string, unknown> }>;
      components: { messages: Record<string, unknown> };
    };
    expect(Object.keys(doc.components.messages).sort()).toEqual([...ledgerCatalog.eventTypes].sort());
    expect(doc.channels.accountEvents?.address).toBe('spine.account.events');
    expect(Object.keys(doc.channels.transferEvents?.messages ?? {})).toEqual([
      'TransferRequested',
      'TransferCompleted',
    ]);
  });
});
