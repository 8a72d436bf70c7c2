/** Writes docs/asyncapi.json from the event contract (a unit test keeps the file and the code equal). */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { asyncApiDocument } from '../libs/events/src';

writeFileSync(resolve(__dirname, '../docs/asyncapi.json'), `${JSON.stringify(asyncApiDocument(), null, 2)}\n`);
