import { applyDecorators } from '@nestjs/common';
import { ApiExtension, ApiOperation } from '@nestjs/swagger';

/** The error statuses a route may document beyond those every route shares. */
export type ErrorStatus = 400 | 403 | 404 | 409 | 422 | 503;

/** What a route says of itself in the OpenAPI document; the platform adds what every route shares. */
export interface RouteDoc {
  /** One line: what the route does. */
  summary: string;
  description?: string;
  /** Stable name for generated clients (`openAccount`, `getReplay`). */
  operationId: string;
  /** The route's own error statuses, each with its stable `code` values. */
  errors?: Partial<Record<ErrorStatus, readonly string[]>>;
  /**
   * A command: takes `Idempotency-Key` and `If-Match`, answers `ETag` (the subject's sequence) and, for a stored
   * first response given again, `Idempotent-Replayed: true`.
   */
  command?: boolean;
  /** The role the caller's token must carry (403 otherwise). */
  role?: 'admin' | 'service';
  /** The route takes a JSON body (413 when too large, 415 when not JSON, 400 when malformed). */
  body?: boolean;
  /** The route answers without a token. */
  anonymous?: boolean;
}

const ROUTE_EXTENSION = 'x-spine-route';

/** Documents a route: its summary and operation id here; headers and error responses follow from the flags. */
export function ApiRoute(doc: RouteDoc): MethodDecorator {
  const role = doc.role ? `Requires the role \`${doc.role}\` (403 \`FORBIDDEN\` otherwise).` : undefined;
  const description = [doc.description, role].filter(Boolean).join('\n\n') || undefined;
  return applyDecorators(
    ApiOperation({ summary: doc.summary, operationId: doc.operationId, description }),
    ApiExtension(ROUTE_EXTENSION, doc),
  );
}

type Json = Record<string, unknown>;
interface Operation extends Json {
  operationId?: string;
  summary?: string;
  parameters?: Json[];
  responses?: Record<string, Json>;
  security?: Json[];
  [ROUTE_EXTENSION]?: RouteDoc;
}

export interface OpenApiCompletion {
  servers: { url: string; description?: string }[];
  license?: { name: string; identifier?: string; url?: string };
}

const ERROR_TEXT: Record<number, string> = {
  400: 'The request is malformed: a field, parameter or header fails validation (`details` names each one).',
  401: 'No token, or the token is invalid or expired.',
  403: 'The token lacks the role or tenant this route needs.',
  404: 'Not found in the caller’s tenant (another tenant’s data is never revealed).',
  409: 'The request conflicts with the current state: refused, nothing written.',
  413: 'The request body is larger than the service accepts.',
  415: 'The request body is not application/json.',
  422: 'The request is well-formed but cannot be carried out.',
  429: 'The tenant sends commands faster than its limit: retry after `Retry-After` seconds.',
  503: 'Not yet (a read-your-writes wait ran out) or a dependency is away; retry after `Retry-After` seconds.',
};

const CORRELATION = {
  name: 'X-Correlation-Id',
  in: 'header',
  required: false,
  description: 'Carried into every event and log line of the request; generated when absent, echoed on the response.',
  schema: { type: 'string', maxLength: 128 },
};

/**
 * Completes the document Nest generates from the controllers with what every route shares and the controllers
 * should not repeat: servers, the license, the error schema and every error status a route answers (with the list
 * of its stable `code` values, so a generated client can tell `INSUFFICIENT_FUNDS` from `CONCURRENCY_CONFLICT`), the
 * correlation header in and out, and for commands the idempotency and concurrency headers in and out.
 */
export function completeOpenApi(document: Json, completion: OpenApiCompletion): Json {
  const components = (document.components ??= {}) as { schemas?: Json; securitySchemes?: Json };
  components.schemas = { ...components.schemas, ErrorBody: ERROR_SCHEMA };
  const info = (document.info ?? {}) as Json;
  if (completion.license) info.license = completion.license;
  if (info.contact && Object.keys(info.contact).length === 0) delete info.contact;
  document.info = info;
  document.servers = completion.servers;
  const hasBearer = Boolean(components.securitySchemes && 'bearer' in components.securitySchemes);

  for (const methods of Object.values((document.paths ?? {}) as Record<string, Record<string, Operation>>)) {
    for (const operation of Object.values(methods)) {
      const doc = operation[ROUTE_EXTENSION];
      if (!doc) throw new Error(`operation ${operation.operationId ?? '?'} has no @ApiRoute`);
      delete operation[ROUTE_EXTENSION];
      if (doc.anonymous) operation.security = [];
      else if (hasBearer) operation.security = [{ bearer: [] }];
      operation.parameters = [...(operation.parameters ?? []), CORRELATION];
      if (doc.command) operation.parameters.push(...COMMAND_HEADERS);
      const responses = (operation.responses ??= {});
      for (const [status, response] of Object.entries(responses)) {
        const headers: Json = { 'X-Correlation-Id': { description: 'The request’s correlation id', schema: STRING } };
        if (doc.command && status.startsWith('2')) Object.assign(headers, COMMAND_RESPONSE_HEADERS);
        response.headers = { ...(response.headers as Json | undefined), ...headers };
        if (!response.description) response.description = doc.summary;
      }
      for (const [status, codes] of Object.entries(errorsOf(doc))) {
        responses[status] = {
          description: ERROR_TEXT[Number(status)],
          headers: {
            'X-Correlation-Id': { description: 'The request’s correlation id', schema: STRING },
            ...(status === '503' || status === '429'
              ? { 'Retry-After': { description: 'Seconds to wait', schema: STRING } }
              : {}),
          },
          content: {
            'application/json': {
              schema: {
                allOf: [
                  { $ref: '#/components/schemas/ErrorBody' },
                  {
                    type: 'object',
                    required: ['statusCode', 'code'],
                    properties: { statusCode: { const: Number(status) }, code: { enum: codes } },
                  },
                ],
              },
            },
          },
        };
      }
    }
  }
  return document;
}

/** Every status the route answers with an error, and the codes of each: the route's own and the platform's. */
export function errorsOf(doc: RouteDoc): Record<string, string[]> {
  const errors = new Map<number, Set<string>>();
  const add = (status: number, ...codes: readonly string[]) => {
    const set = errors.get(status) ?? new Set<string>();
    for (const code of codes) set.add(code);
    errors.set(status, set);
  };
  add(400, 'VALIDATION_FAILED', 'BAD_REQUEST');
  if (doc.body) {
    add(400, 'MALFORMED_JSON');
    add(413, 'PAYLOAD_TOO_LARGE');
    add(415, 'UNSUPPORTED_MEDIA_TYPE');
  }
  if (doc.command) {
    add(400, 'INVALID_HEADER');
    add(409, 'CONCURRENCY_CONFLICT');
    add(422, 'IDEMPOTENCY_KEY_REUSED');
    add(429, 'RATE_LIMITED');
  }
  if (!doc.anonymous) add(401, 'UNAUTHENTICATED');
  if (doc.role) add(403, 'FORBIDDEN');
  for (const [status, codes] of Object.entries(doc.errors ?? {})) add(Number(status), ...(codes ?? []));
  return Object.fromEntries([...errors].sort(([a], [b]) => a - b).map(([s, codes]) => [String(s), [...codes]]));
}

const STRING = { type: 'string' };

const ERROR_SCHEMA = {
  type: 'object',
  description: 'Every error answer. `code` is stable: clients branch on it, never on `message`.',
  required: ['statusCode', 'code', 'message', 'correlationId'],
  properties: {
    statusCode: { type: 'integer', examples: [409] },
    code: { type: 'string', examples: ['INSUFFICIENT_FUNDS'] },
    message: { type: 'string', description: 'For people; may change.' },
    details: { description: 'Machine-readable specifics: the field errors of a 400, the subject of a 409 …' },
    correlationId: { type: 'string' },
  },
};

const COMMAND_HEADERS = [
  {
    name: 'Idempotency-Key',
    in: 'header',
    required: false,
    description:
      'Makes a retry safe: the first response is stored and given again for the same key and request ' +
      '(with `Idempotent-Replayed: true`); the same key with another request is 422 `IDEMPOTENCY_KEY_REUSED`.',
    schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$' },
  },
  {
    name: 'If-Match',
    in: 'header',
    required: false,
    description:
      'The sequence the command’s subject must be at (the `ETag` of an earlier answer); 409 ' +
      '`CONCURRENCY_CONFLICT` when it has moved on.',
    schema: { type: 'string', pattern: '^(W/)?"?[0-9]{1,9}"?$', examples: ['"3"'] },
  },
];

const COMMAND_RESPONSE_HEADERS = {
  ETag: { description: 'The subject’s sequence after the command, for a later `If-Match`', schema: STRING },
  'Idempotent-Replayed': {
    description: '`true` when this is the stored first response to an earlier request with the same Idempotency-Key',
    schema: { type: 'string', enum: ['true'] },
  },
};
