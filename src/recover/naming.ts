/**
 * Names on the recovery target: a backed-up topic, subject or group comes back under its own
 * name, or under the one `--rename source=target` gives its topic. A subject follows its
 * topic only where TopicNameStrategy named it (`<topic>-key`, `<topic>-value`): a client of
 * the renamed topic derives its subject from the new name. Record-name subjects
 * (`com.acme.Order`, `orders-com.acme.Order`) and referenced ones keep their names. Pure.
 */
import { UsageError } from '../errors';
import { subjectTopics, topicSubject } from '../model/subject-name';
import { validateTopicName } from '../remap/topic-name';

/** Parses `--rename a=b` values into source → target; every name a valid topic name, no source twice, no target twice. */
export function parseRenames(values: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  const targets = new Map<string, string>();
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0 || eq === v.length - 1) {
      throw new UsageError(`--rename ${JSON.stringify(v)} is not of the form source=target`, 'e.g. --rename orders=orders-recovered');
    }
    const source = validateTopicName(v.slice(0, eq), '--rename source');
    const target = validateTopicName(v.slice(eq + 1), '--rename target');
    if (out.has(source)) throw new UsageError(`--rename names topic ${JSON.stringify(source)} twice`, 'give each topic one new name');
    const other = targets.get(target);
    if (other !== undefined) {
      throw new UsageError(
        `--rename gives ${JSON.stringify(other)} and ${JSON.stringify(source)} the same name ${JSON.stringify(target)}`,
        'give each topic its own name',
      );
    }
    out.set(source, target);
    targets.set(target, source);
  }
  return out;
}

export class RecoveryNaming {
  constructor(private readonly renames: ReadonlyMap<string, string>) {}

  topic(source: string): string {
    return this.renames.get(source) ?? source;
  }

  /**
   * Source → target for the recovered topics. Refuses renames of topics not being recovered
   * (a typo would otherwise recover the topic under its own name) and two topics meeting in
   * one name (`--rename a=b` while `b` is recovered as well).
   */
  topicMap(selected: readonly string[], backupTopics: readonly string[]): Map<string, string> {
    const chosen = new Set(selected);
    for (const source of this.renames.keys()) {
      if (!chosen.has(source)) {
        const why = backupTopics.includes(source) ? 'is not among the topics being recovered' : 'is not in the backup';
        throw new UsageError(`--rename ${source}=${this.renames.get(source)}: topic ${JSON.stringify(source)} ${why}`, 'rename only topics you recover');
      }
    }
    const map = new Map<string, string>();
    const owner = new Map<string, string>();
    for (const source of selected) {
      const target = this.topic(source);
      const other = owner.get(target);
      if (other !== undefined) {
        throw new UsageError(
          `topics ${JSON.stringify(other)} and ${JSON.stringify(source)} would both be recovered as ${JSON.stringify(target)}`,
          'rename one of them to a name of its own with --rename',
        );
      }
      owner.set(target, source);
      map.set(source, target);
    }
    return map;
  }

  /** Source subject → target subject for the subjects a recovery registers; two meeting in one is refused. */
  subjectMap(subjects: Iterable<string>, topicMap: ReadonlyMap<string, string>): Map<string, string> {
    const map = new Map<string, string>();
    const owner = new Map<string, string>();
    for (const source of subjects) {
      let target = source;
      for (const { topic, part } of subjectTopics(source)) {
        const renamed = topicMap.get(topic);
        if (renamed !== undefined) {
          target = topicSubject(renamed, part);
          break;
        }
      }
      const other = owner.get(target);
      if (other !== undefined) {
        throw new UsageError(
          `subjects ${JSON.stringify(other)} and ${JSON.stringify(source)} would both be recovered as ${JSON.stringify(target)}`,
          'choose --rename targets whose subjects do not meet an existing one',
        );
      }
      owner.set(target, source);
      map.set(source, target);
    }
    return map;
  }
}
