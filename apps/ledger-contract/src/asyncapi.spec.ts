import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { asyncApiDocument } from '@event-spine/events';
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

  it('is a valid AsyncAPI 3.0 document for the AsyncAPI parser (no error diagnostics)', async () => {
    const { Parser } = await import('@asyncapi/parser');
    const diagnostics = await new Parser().validate(JSON.stringify(asyncApiDocument(ledgerCatalog)));
    // Severity 0 is an error; warnings and hints (style suggestions) do not make the document invalid.
    const errors = diagnostics.filter((d) => Number(d.severity) === 0);
    expect(errors.map((d) => `${String(d.code)}: ${d.message}`)).toEqual([]);
  });
});
