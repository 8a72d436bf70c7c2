import { Controller, Get, Headers } from '@nestjs/common';
import { Authenticated, CurrentPrincipal, isAdmin, type Principal } from '@event-spine/auth';
import { ServiceDirectory } from '../services/service-directory';
import { callService } from '../services/upstream';
import { OverviewSampler } from './overview.sampler';

/** The overview page in one call: health and readiness of every service, relay and projection figures, history. */
@Authenticated()
@Controller('api')
export class OverviewHttpController {
  constructor(
    private readonly directory: ServiceDirectory,
    private readonly sampler: OverviewSampler,
  ) {}

  @Get('session')
  session(@CurrentPrincipal() principal: Principal) {
    return { principal, admin: isAdmin(principal), domains: this.directory.domains.map((d) => d.domain) };
  }

  @Get('overview')
  async overview(@CurrentPrincipal() principal: Principal, @Headers('authorization') authorization: string) {
    const domains = await Promise.all(
      this.directory.domains.map(async (d) => {
        const services = await Promise.all(
          d.services.map(async (s) => {
            const [live, ready] = await Promise.all([
              callService(`${s.url}/health/live`, { timeoutMs: 3000 }),
              callService(`${s.url}/health/ready`, { timeoutMs: 3000 }),
            ]);
            return { name: s.name, role: s.role, url: s.url, live, ready };
          }),
        );
        const projector = this.directory.service(d.domain, 'projector');
        // Per-projection figures come from the projector's admin API with the caller's own token: its answer (403 for
        // a non-admin) is what the page shows.
        const projections = projector
          ? await callService(`${projector.url}/admin/projections`, { headers: { authorization } })
          : undefined;
        const latest = this.sampler.latest(d.domain);
        return {
          domain: d.domain,
          services,
          relay: latest && {
            backlog: latest.backlog ?? null,
            oldestUnpublishedAgeSeconds: latest.oldestUnpublishedAgeSeconds ?? null,
            commitToPublish: this.sampler.latency(d.domain) ?? null,
          },
          lag: latest?.partitions ?? [],
          history: this.sampler
            .history(d.domain)
            .map((s) => ({ t: s.t, backlog: s.backlog ?? null, lag: s.lag ?? null })),
          projections,
        };
      }),
    );
    return { generatedAt: new Date().toISOString(), admin: isAdmin(principal), domains };
  }
}
