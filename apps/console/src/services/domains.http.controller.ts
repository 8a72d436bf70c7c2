import { Controller, Get } from '@nestjs/common';
import { Authenticated } from '@event-spine/auth';
import { ServiceDirectory } from './service-directory';
import { subjectTypesFromOpenApi, type SubjectTypeView } from './subject-types';
import { callService } from './upstream';

/** The domains, their services and their subject types, for the pages' pickers. */
@Authenticated()
@Controller('api')
export class DomainsHttpController {
  private readonly cache = new Map<string, SubjectTypeView[]>();

  constructor(private readonly directory: ServiceDirectory) {}

  private async subjectTypes(domain: string): Promise<SubjectTypeView[] | { error: unknown }> {
    const cached = this.cache.get(domain);
    if (cached) return cached;
    const command = this.directory.service(domain, 'command');
    if (!command) return [];
    const reply = await callService(`${command.url}/docs/openapi.json`, { timeoutMs: 5000 });
    if (reply.status !== 200) return { error: reply.body };
    const types = subjectTypesFromOpenApi(reply.body);
    this.cache.set(domain, types);
    return types;
  }

  @Get('domains')
  async domains() {
    return {
      domains: await Promise.all(
        this.directory.domains.map(async (d) => {
          const types = await this.subjectTypes(d.domain);
          return {
            domain: d.domain,
            services: d.services.map((s) => ({ name: s.name, role: s.role, url: s.url })),
            ...(Array.isArray(types) ? { subjectTypes: types } : { subjectTypes: [], error: types.error }),
          };
        }),
      ),
    };
  }
}
