import { defineEventCatalog, strictObject, UnknownEventError } from './index';

// A fixture domain, not the ledger: the platform knows no domain of its own.
type ShopEvent =
  | { eventType: 'OrderPlaced'; payload: { customer: string; total: number } }
  | { eventType: 'OrderShipped'; payload: Record<string, never> }
  | { eventType: 'ParcelLost'; payload: { reason: string } };

const shop = defineEventCatalog<ShopEvent>({
  name: 'shop',
  events: {
    OrderPlaced: {
      subjectType: 'order',
      // v1 `buyer`, v2 `customer`, v3 adds `total`
      version: 3,
      upcasters: {
        1: ({ buyer, ...rest }) => ({ ...rest, customer: buyer }),
        2: (payload) => ({ ...payload, total: 0 }),
      },
      schema: strictObject({ customer: { type: 'string' }, total: { type: 'integer' } }, ['customer', 'total']),
    },
    OrderShipped: { subjectType: 'order', schema: strictObject({}, []) },
    ParcelLost: { subjectType: 'parcel', schema: strictObject({ reason: { type: 'string' } }, ['reason']) },
  },
});

describe('event catalog', () => {
  it('knows each event type’s subject type, version and the topic of each subject type', () => {
    expect(shop.eventTypes).toEqual(['OrderPlaced', 'OrderShipped', 'ParcelLost']);
    expect(shop.subjectTypes).toEqual(['order', 'parcel']);
    expect(shop.versionOf('OrderPlaced')).toBe(3);
    expect(shop.versionOf('OrderShipped')).toBe(1);
    expect(shop.eventTypesOf('order')).toEqual(['OrderPlaced', 'OrderShipped']);
    expect(shop.topics('t1.')).toEqual(['t1.spine.order.events', 't1.spine.parcel.events']);
    expect(shop.subjectTypeOfTopic('t1.spine.parcel.events')).toBe('parcel');
    expect(shop.subjectTypeOfTopic('spine.account.events')).toBeUndefined();
  });

  it('takes a topic rule of the domain’s own', () => {
    const custom = defineEventCatalog<ShopEvent>({
      name: 'shop',
      topic: (subjectType) => `shop.${subjectType}.v1`,
      events: {
        OrderPlaced: { subjectType: 'order', schema: {} },
        OrderShipped: { subjectType: 'order', schema: {} },
        ParcelLost: { subjectType: 'parcel', schema: {} },
      },
    });
    expect(custom.topics()).toEqual(['shop.order.v1', 'shop.parcel.v1']);
    expect(custom.subjectTypeOfTopic('x.shop.parcel.v1')).toBe('parcel');
  });

  it('upcasts an older schema version one step at a time, keeping everything else', () => {
    const v1 = { eventType: 'OrderPlaced', eventSchemaVersion: 1, payload: { buyer: 'Ada' }, sequence: 4 };
    expect(shop.upcast(v1)).toEqual({
      eventType: 'OrderPlaced',
      eventSchemaVersion: 3,
      payload: { customer: 'Ada', total: 0 },
      sequence: 4,
    });
  });

  it('leaves current versions as they are', () => {
    const current = { eventType: 'ParcelLost', eventSchemaVersion: 1, payload: { reason: 'rain' } };
    expect(shop.upcast(current)).toEqual(current);
  });

  it.each([
    ['unknown-type', { eventType: 'AccountOpened', eventSchemaVersion: 1, payload: {} }],
    ['unknown-version', { eventType: 'OrderPlaced', eventSchemaVersion: 4, payload: {} }],
    ['unknown-version', { eventType: 'OrderPlaced', eventSchemaVersion: 0, payload: {} }],
    ['bad-payload', { eventType: 'ParcelLost', eventSchemaVersion: 1, payload: 'x' }],
  ])('refuses what it cannot read (%s)', (reason, event) => {
    expect(() => shop.upcast(event)).toThrow(UnknownEventError);
    expect(() => shop.upcast(event)).toThrow(expect.objectContaining({ reason }));
  });

  it('serves another domain’s event as stored to readers of the log instead of failing', () => {
    const foreign = { eventType: 'AccountOpened', eventSchemaVersion: 2, payload: { ownerName: 'x' } };
    expect(shop.read(foreign)).toBe(foreign);
    expect(shop.read({ eventType: 'OrderPlaced', eventSchemaVersion: 2, payload: { customer: 'B' } }).payload).toEqual({
      customer: 'B',
      total: 0,
    });
  });

  it('refuses a catalog whose versions cannot be reached by its upcasters', () => {
    expect(() =>
      defineEventCatalog<ShopEvent>({
        name: 'broken',
        events: {
          OrderPlaced: { subjectType: 'order', version: 2, schema: {} },
          OrderShipped: { subjectType: 'order', schema: {} },
          ParcelLost: { subjectType: 'parcel', schema: {} },
        },
      }),
    ).toThrow('OrderPlaced: no upcaster from version 1 to 2');
  });
});
