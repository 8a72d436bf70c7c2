/** Writes docs/asyncapi.json from the ledger's event catalog (a unit test keeps the file and the code equal). */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ledgerCatalog } from '../apps/ledger-contract/src';
import { asyncApiDocument } from '../libs/events/src';

writeFileSync(
  resolve(__dirname, '../docs/asyncapi.json'),
  `${JSON.stringify(asyncApiDocument(ledgerCatalog), null, 2)}\n`,
);
