import { completeOpenApi, errorsOf } from './openapi';

describe('errorsOf', () => {
  it('adds what every authenticated route answers to the route’s own codes', () => {
    expect(errorsOf({ summary: 's', operationId: 'get', errors: { 404: ['ACCOUNT_NOT_FOUND'] } })).toEqual({
      400: ['VALIDATION_FAILED', 'BAD_REQUEST'],
      401: ['UNAUTHENTICATED'],
      404: ['ACCOUNT_NOT_FOUND'],
    });
  });

  it('documents the body, command and role refusals when the route has them', () => {
    const errors = errorsOf({
      summary: 's',
      operationId: 'withdraw',
      command: true,
      body: true,
      role: 'admin',
      errors: { 409: ['INSUFFICIENT_FUNDS'] },
    });
    expect(errors[400]).toEqual(['VALIDATION_FAILED', 'BAD_REQUEST', 'MALFORMED_JSON', 'INVALID_HEADER']);
    expect(errors[403]).toEqual(['FORBIDDEN']);
    expect(errors[409]).toEqual(['CONCURRENCY_CONFLICT', 'INSUFFICIENT_FUNDS']);
    expect(errors[429]).toEqual(['RATE_LIMITED']);
    expect(Object.keys(errors)).toEqual(['400', '401', '403', '409', '413', '415', '422', '429']);
  });
});

interface Completed {
  servers: unknown;
  info: unknown;
  components: { schemas: Record<string, { required: string[] }> };
  paths: Record<
    string,
    Record<
      string,
      {
        security: unknown;
        parameters: { name: string }[];
        responses: Record<
          string,
          { description: string; headers: object; content: Record<string, { schema: unknown }> }
        >;
      } & Record<string, unknown>
    >
  >;
}

describe('completeOpenApi', () => {
  const generated = () => ({
    openapi: '3.1.0',
    info: { title: 't', version: '1', contact: {} },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths: {
      '/v1/things/{id}': {
        post: {
          operationId: 'changeThing',
          parameters: [{ name: 'id', in: 'path', required: true }],
          responses: { '201': { description: '' } },
          'x-spine-route': { summary: 'Change a thing', operationId: 'changeThing', command: true },
        },
      },
    },
  });

  it('adds servers, the license, the error schema, headers in and out and every error response', () => {
    const doc = completeOpenApi(generated(), {
      servers: [{ url: 'http://127.0.0.1:3000' }],
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    }) as unknown as Completed;
    expect(doc.servers).toEqual([{ url: 'http://127.0.0.1:3000' }]);
    expect(doc.info).toEqual({ title: 't', version: '1', license: { name: 'Apache-2.0', identifier: 'Apache-2.0' } });
    const op = doc.paths['/v1/things/{id}'].post;
    expect(op['x-spine-route']).toBeUndefined();
    expect(op.security).toEqual([{ bearer: [] }]);
    expect(op.parameters.map((p) => p.name)).toEqual(['id', 'X-Correlation-Id', 'Idempotency-Key', 'If-Match']);
    expect(Object.keys(op.responses['201'].headers)).toEqual(['X-Correlation-Id', 'ETag', 'Idempotent-Replayed']);
    expect(op.responses['201'].description).toBe('Change a thing');
    expect(op.responses['409'].content['application/json'].schema).toEqual({
      allOf: [
        { $ref: '#/components/schemas/ErrorBody' },
        {
          type: 'object',
          required: ['statusCode', 'code'],
          properties: { statusCode: { const: 409 }, code: { enum: ['CONCURRENCY_CONFLICT'] } },
        },
      ],
    });
    expect(doc.components.schemas.ErrorBody.required).toEqual(['statusCode', 'code', 'message', 'correlationId']);
  });

  it('refuses a route without @ApiRoute, so no route goes undocumented', () => {
    const doc = generated();
    delete (doc.paths['/v1/things/{id}'].post as Record<string, unknown>)['x-spine-route'];
    expect(() => completeOpenApi(doc, { servers: [] })).toThrow('operation changeThing has no @ApiRoute');
  });
});
