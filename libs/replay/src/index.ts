export * from './replay.request';
export * from './replays.migration';
export * from './replay-engine';
export { type EventLogReader } from './sources/event-log.source';
