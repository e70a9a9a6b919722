/**
 * The Confluent TopicNameStrategy, the one rule that ties schema-registry subjects to
 * topics: the key schema of topic T is registered under `T-key`, the value schema under
 * `T-value`. Everything in kbak that relates subjects and topics asks here.
 */
export type RecordPart = 'key' | 'value';

export const RECORD_PARTS: readonly RecordPart[] = ['key', 'value'];

export function topicSubject(topic: string, part: RecordPart): string {
  return `${topic}-${part}`;
}

/**
 * The topics a subject may belong to under TopicNameStrategy, with the part. At most one
 * candidate per part; a topic may itself end in `-value` (`a-value` → `a-value-value`), so
 * callers check candidates against the topics they know.
 */
export function subjectTopics(subject: string): Array<{ topic: string; part: RecordPart }> {
  const out: Array<{ topic: string; part: RecordPart }> = [];
  for (const part of RECORD_PARTS) {
    const suffix = `-${part}`;
    if (subject.endsWith(suffix)) out.push({ topic: subject.slice(0, -suffix.length), part });
  }
  return out;
}
