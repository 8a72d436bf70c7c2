import { defineEventCatalog } from '@event-spine/events';
import { schemaVersionFor } from './command-executor';

// A fixture domain: the platform knows none of its own.
type ShopEvent =
  { eventType: 'OrderPlaced'; payload: { total: number } } | { eventType: 'ParcelLost'; payload: { reason: string } };
const shop = defineEventCatalog<ShopEvent>({
  name: 'shop',
  events: {
    OrderPlaced: { subjectType: 'order', version: 2, upcasters: { 1: (p) => p }, schema: {} },
    ParcelLost: { subjectType: 'parcel', schema: {} },
  },
});

describe('schemaVersionFor', () => {
  it('stamps a decided event with its current schema version', () => {
    expect(schemaVersionFor(shop, 'OrderPlaced', 'order')).toBe(2);
    expect(schemaVersionFor(shop, 'ParcelLost', 'parcel')).toBe(1);
  });

  it('refuses an event type the catalog does not declare', () => {
    expect(() => schemaVersionFor(shop, 'OrderEdited', 'order')).toThrow(
      'event type "OrderEdited" is not declared in the shop event catalog',
    );
  });

  it('refuses an event on a subject type its catalog does not give it', () => {
    expect(() => schemaVersionFor(shop, 'ParcelLost', 'order')).toThrow(
      'ParcelLost belongs to parcel subjects in the shop catalog, not to "order"',
    );
  });
});
