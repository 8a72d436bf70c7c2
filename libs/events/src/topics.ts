/** The subject types of the ledger; each has its own Kafka topic. */
export const SUBJECT_TYPES = ['account', 'transfer'] as const;
export type SubjectType = (typeof SUBJECT_TYPES)[number];

/** `spine.<subjectType>.events`, with an optional prefix that isolates test runs on a shared broker. */
export function topicFor(subjectType: SubjectType, prefix = ''): string {
  return `${prefix}spine.${subjectType}.events`;
}

export function allTopics(prefix = ''): string[] {
  return SUBJECT_TYPES.map((t) => topicFor(t, prefix));
}
