import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { Loaded, SubjectRef } from '@event-spine/domain';
import { readSubjectEvents } from '@event-spine/event-log';
import { readSubjectState } from '../subject-state.store';
import { COMMANDS_OPTIONS, type CommandsModuleOptions } from './commands.options';

/** The most events folded for one temporal read; a subject with more is answered from a page, never silently cut. */
const AS_OF_LIMIT = 1_000_000;

/**
 * A subject's state for the domain's queries: now (the state the commands keep), or as the system knew it at a time
 * (the same fold the commands use, over the events recorded by then, upcast by the catalog). Sequence 0: no events.
 */
@Injectable()
export class SubjectReader {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(COMMANDS_OPTIONS) private readonly options: CommandsModuleOptions,
  ) {}

  async read<S>(tenantId: string, ref: SubjectRef, asOf?: Date): Promise<Loaded<S>> {
    if (asOf) return this.asOf<S>(tenantId, ref, asOf);
    const current = await readSubjectState<S>(this.db, tenantId, ref);
    return current ?? { state: this.options.model.initialState(ref.subjectType) as S, sequence: 0 };
  }

  private async asOf<S>(tenantId: string, ref: SubjectRef, asOf: Date): Promise<Loaded<S>> {
    const { model, catalog } = this.options;
    const events = await readSubjectEvents(this.db, catalog, {
      tenantId,
      ...ref,
      recordedUpTo: asOf,
      limit: AS_OF_LIMIT,
    });
    if (events.length === AS_OF_LIMIT)
      throw new Error(`${ref.subjectType} ${ref.subjectId} has too many events to fold`);
    const state = events.reduce((s, e) => model.evolve(ref.subjectType, s, e), model.initialState(ref.subjectType));
    return { state: state as S, sequence: events.at(-1)?.sequence ?? 0 };
  }
}
