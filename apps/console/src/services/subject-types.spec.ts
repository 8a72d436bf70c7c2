import { subjectTypesFromOpenApi } from './subject-types';

describe('subject types from a command service’s OpenAPI document', () => {
  it('finds every subject type and its temporal state route, whatever the domain', () => {
    const document = {
      paths: {
        '/v1/subjects/{subjectType}/{subjectId}/events': {
          get: {
            parameters: [
              { name: 'subjectType', in: 'path', schema: { enum: ['customer', 'credit-check', 'audit-trail'] } },
            ],
          },
        },
        '/v1/customers/{customerId}': { get: { parameters: [{ name: 'asOf', in: 'query' }] } },
        '/v1/credit-checks/{id}': { get: { parameters: [{ name: 'asOf', in: 'query' }] } },
        '/v1/credit-checks/{id}/complete': { post: {} },
        '/v1/other/{id}': { get: { parameters: [] } },
      },
    };
    expect(subjectTypesFromOpenApi(document)).toEqual([
      { subjectType: 'customer', stateRoute: '/v1/customers/{id}' },
      { subjectType: 'credit-check', stateRoute: '/v1/credit-checks/{id}' },
      { subjectType: 'audit-trail', stateRoute: undefined },
    ]);
  });

  it('reads a subject type without a state route of its own through the platform’s generic state route', () => {
    const asOf = { name: 'asOf', in: 'query' };
    const document = {
      paths: {
        '/v1/subjects/{subjectType}/{subjectId}/events': {
          get: { parameters: [{ name: 'subjectType', in: 'path', schema: { enum: ['account', 'transfer', 'x-ds'] } }] },
        },
        '/v1/subjects/{subjectType}/{subjectId}/state': {
          get: { parameters: [{ name: 'subjectType', in: 'path', schema: { enum: ['account', 'transfer'] } }, asOf] },
        },
        '/v1/accounts/{id}': { get: { parameters: [asOf] } },
      },
    };
    expect(subjectTypesFromOpenApi(document)).toEqual([
      { subjectType: 'account', stateRoute: '/v1/accounts/{id}' },
      { subjectType: 'transfer', stateRoute: '/v1/subjects/transfer/{id}/state' },
      { subjectType: 'x-ds', stateRoute: undefined },
    ]);
  });

  it('answers nothing for a document without the history route', () => {
    expect(subjectTypesFromOpenApi({})).toEqual([]);
  });
});
