import { randomUUID } from 'node:crypto';
import { defineEventCatalog } from './catalog';
import type { EventEnvelope } from './envelope';
import { strictObject, wirePayloadSchema } from './event-schemas';
import {
  DATA_SUBJECT_FORGOTTEN,
  SealedValueError,
  isSealed,
  newPersonalKey,
  openPayload,
  sealPayload,
  sealedDataSubjects,
} from './personal-data';

const envelope = (payload: Record<string, unknown>): EventEnvelope => ({
  id: randomUUID(),
  tenantId: 't1',
  spaceId: 's',
  eventType: 'PersonRegistered',
  eventSchemaVersion: 1,
  subjectType: 'person',
  subjectId: 'p-1',
  actorId: 'a',
  actorType: 'user',
  actionInvocationId: randomUUID(),
  payload,
  sequence: 1,
  occurredAt: new Date(0).toISOString(),
  recordedAt: new Date(0).toISOString(),
  correlationId: 'c',
});

describe('sealing personal fields', () => {
  const key = newPersonalKey();
  const plain = envelope({ name: 'Ada Lovelace', address: { city: 'London' }, plan: 'gold' });
  const sealed = sealPayload(plain, { fields: ['name', 'address', 'missing'] }, 'p-1', key);
  const stored = sealed.payload as Record<string, unknown>;

  it('seals only the named fields, and no plaintext is left in the stored bytes', () => {
    expect(isSealed(stored.name)).toBe(true);
    expect(isSealed(stored.address)).toBe(true);
    expect(stored.plan).toBe('gold');
    expect('missing' in stored).toBe(false);
    expect(JSON.stringify(sealed)).not.toMatch(/Ada|London/);
    expect(sealedDataSubjects(stored)).toEqual(['p-1']);
    expect(sealedDataSubjects(plain.payload)).toEqual([]);
  });

  it('opens with the key, and reads as null once the key is gone', () => {
    expect(openPayload(sealed, new Map([['p-1', key]])).payload).toEqual(plain.payload);
    expect(openPayload(sealed, new Map([['p-1', null]])).payload).toEqual({ name: null, address: null, plan: 'gold' });
    expect(openPayload(sealed, new Map()).payload).toEqual({ name: null, address: null, plan: 'gold' });
    expect(openPayload(plain, new Map())).toBe(plain);
  });

  it('refuses a wrong key, changed bytes, and a sealed value moved to another event or field', () => {
    expect(() => openPayload(sealed, new Map([['p-1', newPersonalKey()]]))).toThrow(SealedValueError);
    const c = (stored.name as { $pii: { c: string } }).$pii.c;
    const flipped = Buffer.from(c, 'base64url');
    flipped[flipped.length - 1] ^= 1;
    const changed = {
      ...sealed,
      payload: { ...stored, name: { $pii: { ds: 'p-1', c: flipped.toString('base64url') } } },
    };
    expect(() => openPayload(changed, new Map([['p-1', key]]))).toThrow(SealedValueError);
    const moved = { ...sealed, id: randomUUID() };
    expect(() => openPayload(moved, new Map([['p-1', key]]))).toThrow(SealedValueError);
    const swapped = { ...sealed, payload: { ...stored, name: stored.address, address: stored.name } };
    expect(() => openPayload(swapped, new Map([['p-1', key]]))).toThrow(SealedValueError);
  });
});

describe('personal fields in the catalog', () => {
  const schema = strictObject({ name: { type: 'string' }, ownerId: { type: 'string' } }, ['name']);

  it('adds the platform forget event on its own subject type, and names whose data an event holds', () => {
    const catalog = defineEventCatalog({
      name: 'crm',
      events: {
        PersonRegistered: { subjectType: 'person', schema, personal: { fields: ['name'], dataSubject: 'ownerId' } },
      },
    });
    expect(catalog.dataSubjectType).toBe('crm-data-subject');
    expect(catalog.subjectTypeOf(DATA_SUBJECT_FORGOTTEN)).toBe('crm-data-subject');
    expect(catalog.topics()).toEqual(['spine.person.events', 'spine.crm-data-subject.events']);
    expect(catalog.dataSubjectOf({ eventType: 'PersonRegistered', subjectId: 's', payload: { ownerId: 'o-9' } })).toBe(
      'o-9',
    );
    expect(catalog.isSubjectId('crm-data-subject', 'customer_42')).toBe(true);
    const wire = wirePayloadSchema(catalog, 'PersonRegistered') as { properties: Record<string, unknown> };
    expect(Object.keys(wire.properties.name as object)).toContain('properties');
    expect(wire.properties.ownerId).toEqual({ type: 'string' });
  });

  it('has no forget event without personal fields, and refuses personal fields its schema lacks', () => {
    const plain = defineEventCatalog({ name: 'x', events: { A: { subjectType: 'a', schema } } });
    expect(plain.dataSubjectType).toBeUndefined();
    expect(plain.has(DATA_SUBJECT_FORGOTTEN)).toBe(false);
    expect(() =>
      defineEventCatalog({ name: 'x', events: { A: { subjectType: 'a', schema, personal: { fields: ['nope'] } } } }),
    ).toThrow(/nope is not in its payload schema/);
    expect(() =>
      defineEventCatalog({
        name: 'x',
        events: { A: { subjectType: 'a', schema, personal: { fields: ['name'], dataSubject: 'name' } } },
      }),
    ).toThrow(/cannot itself be sealed/);
  });
});
