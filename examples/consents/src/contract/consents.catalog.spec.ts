import { consentsCatalog } from './consents.catalog';

describe('consents catalog', () => {
  it('derives the topics of both subject types', () => {
    expect(consentsCatalog.topics('p.')).toEqual([
      'p.spine.customer.events',
      'p.spine.credit-check.events',
      'p.spine.consents-data-subject.events',
    ]);
    expect(consentsCatalog.subjectTypeOfTopic('p.spine.credit-check.events')).toBe('credit-check');
  });

  it('upcasts a v1 ConsentGranted ({purpose, channel}) to v2', () => {
    const v1 = {
      eventType: 'ConsentGranted',
      eventSchemaVersion: 1,
      payload: { purpose: 'identity', channel: 'phone' },
    };
    expect(consentsCatalog.upcast(v1)).toEqual({
      eventType: 'ConsentGranted',
      eventSchemaVersion: 2,
      payload: { purpose: 'identity', grantedVia: 'phone', scope: ['standard'] },
    });
  });

  it('refuses a version it does not know, and passes another domain’s event through on the lenient read', () => {
    expect(() => consentsCatalog.upcast({ eventType: 'ConsentGranted', eventSchemaVersion: 3, payload: {} })).toThrow(
      /not readable/,
    );
    const foreign = { eventType: 'AccountOpened', eventSchemaVersion: 2, payload: { ownerName: 'x' } };
    expect(consentsCatalog.read(foreign)).toBe(foreign);
  });
});
