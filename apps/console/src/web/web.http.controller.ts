import { Controller, Get, Inject, Param, Res } from '@nestjs/common';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyReply } from 'fastify';
import { ApiError } from '@event-spine/http';

export const CONSOLE_WEB_DIR = Symbol('CONSOLE_WEB_DIR');

const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  map: 'application/json; charset=utf-8',
  svg: 'image/svg+xml',
  html: 'text/html; charset=utf-8',
};

/** Serves the built single-page app: index.html at `/` (pages are `#/...`), its hashed files at the root. */
@Controller()
export class WebHttpController {
  constructor(@Inject(CONSOLE_WEB_DIR) private readonly dir: string) {}

  @Get()
  async index(@Res() res: FastifyReply) {
    const html = await readFile(join(this.dir, 'index.html'));
    return res.type(TYPES.html).header('cache-control', 'no-cache').send(html);
  }

  @Get(':file')
  async file(@Param('file') file: string, @Res() res: FastifyReply) {
    const match = /^[A-Za-z0-9_-]+(?:-[A-Z0-9]+)?\.(js|css|map|svg)$/.exec(file);
    if (!match) throw new ApiError(404, 'NOT_FOUND', `no such file: ${file}`);
    const body = await readFile(join(this.dir, file)).catch(() => undefined);
    if (!body) throw new ApiError(404, 'NOT_FOUND', `no such file: ${file}`);
    const immutable = /-[A-Z0-9]{8,}\./.test(file);
    return res
      .type(TYPES[match[1]])
      .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
      .send(body);
  }
}
