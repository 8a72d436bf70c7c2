import { All, Controller, Param, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '@event-spine/http';
import { SERVICE_ROLES, ServiceDirectory, type ServiceRole } from '../services/service-directory';
import { callService } from '../services/upstream';

const FORWARDED = ['authorization', 'content-type', 'if-match', 'idempotency-key', 'x-correlation-id'];

/**
 * The console's pass-through: `/api/proxy/:domain/:role?path=/admin/parked` calls that service with the caller's own
 * headers (bearer token included) and answers exactly what the service answered, status and body. The services'
 * own authorization (admin or not, the caller's tenant) decides; the console adds none and removes none.
 */
@Controller('api/proxy')
export class ProxyHttpController {
  constructor(private readonly directory: ServiceDirectory) {}

  @All(':domain/:role')
  async forward(
    @Param('domain') domain: string,
    @Param('role') role: string,
    @Query('path') path: string | undefined,
    @Req() req: FastifyRequest,
    @Res() res: FastifyReply,
  ) {
    if (!SERVICE_ROLES.includes(role as ServiceRole))
      throw new ApiError(404, 'SERVICE_NOT_FOUND', `role must be one of ${SERVICE_ROLES.join(', ')}`);
    const service = this.directory.service(domain, role as ServiceRole);
    if (!service) throw new ApiError(404, 'SERVICE_NOT_FOUND', `no ${role} service in domain ${domain}`);
    if (!path || !path.startsWith('/') || path.startsWith('//') || /[\r\n]/.test(path))
      throw new ApiError(400, 'VALIDATION_FAILED', 'Request validation failed', [
        { field: 'path', errors: ['path must be an absolute path of the service, e.g. /admin/projections'] },
      ]);
    if (!['GET', 'POST'].includes(req.method))
      throw new ApiError(405, 'METHOD_NOT_ALLOWED', 'Only GET and POST are passed on');
    const headers: Record<string, string> = {};
    for (const name of FORWARDED) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const hasBody = req.method === 'POST' && req.body !== undefined && req.body !== null;
    if (hasBody) headers['content-type'] = 'application/json';
    else delete headers['content-type'];
    const reply = await callService(`${service.url}${path}`, {
      method: req.method,
      headers,
      body: hasBody ? JSON.stringify(req.body) : undefined,
      timeoutMs: 30000,
    });
    for (const [name, value] of Object.entries(reply.headers ?? {})) void res.header(name, value);
    void res.status(reply.status);
    if (reply.body === null) return res.send();
    return typeof reply.body === 'string'
      ? res.type('text/plain; charset=utf-8').send(reply.body)
      : res.type('application/json; charset=utf-8').send(JSON.stringify(reply.body));
  }
}
