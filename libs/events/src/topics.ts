/** The default topic rule: one topic per subject type, `spine.<subjectType>.events`. */
export function defaultTopic(subjectType: string): string {
  return `spine.${subjectType}.events`;
}
