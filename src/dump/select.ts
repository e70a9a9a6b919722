/**
 * Which topics and partitions a dump reads. Pure: the cluster's topic list is passed in.
 */
import { InvalidOptionError, NotFoundError, UsageError } from '../errors';
import { didYouMeanSuffix } from '../util/near-names';

export interface Selection {
  topics: string[];
  regex?: string;
  partitions?: number[];
}

export function parsePartitions(value: string): number[] {
  const parts = value.split(',').map((s) => s.trim());
  const out = parts.map((p) => {
    if (!/^\d+$/.test(p)) throw new InvalidOptionError('partitions', value, 'is not a comma-separated list of partition numbers', 'e.g. 0,2');
    return Number(p);
  });
  return [...new Set(out)].sort((a, b) => a - b);
}

/** Internal topics are never dumped by a regex; naming one explicitly is allowed. */
const INTERNAL = /^(__consumer_offsets|__transaction_state|__cluster_metadata|_schemas)$/;

/** Where the names come from, for messages: the source cluster (dump), or a backup (recover). */
export interface SelectionPlace {
  where: string;
  hint: string;
}

const SOURCE_CLUSTER: SelectionPlace = { where: 'on the source cluster', hint: 'check the name with your Kafka tools or select topics by regex' };

export function selectTopics(sel: Selection, existing: string[], place: SelectionPlace = SOURCE_CLUSTER): string[] {
  if (sel.topics.length === 0 && !sel.regex) throw new UsageError('no topic selected', 'name topics or a topic regex', { options: ['topics', 'topicsRegex'] });
  const have = new Set(existing);
  const chosen = new Set<string>();
  for (const t of sel.topics) {
    if (!have.has(t))
      throw new NotFoundError(`topic "${t}" does not exist ${place.where}${didYouMeanSuffix(t, existing)}`, place.hint, { options: ['topicsRegex'] });
    chosen.add(t);
  }
  if (sel.regex !== undefined) {
    let re: RegExp;
    try {
      re = new RegExp(`^(?:${sel.regex})$`);
    } catch (err) {
      throw new InvalidOptionError('topicsRegex', sel.regex, `is not a valid regular expression: ${(err as Error).message}`);
    }
    const matched = existing.filter((t) => re.test(t) && !INTERNAL.test(t));
    if (matched.length === 0)
      throw new NotFoundError(`topicsRegex "${sel.regex}" matches no topic ${place.where}`, 'the regex must match whole topic names', {
        options: ['topicsRegex'],
      });
    for (const t of matched) chosen.add(t);
  }
  return [...chosen].sort();
}

export function selectPartitions(topic: string, count: number, wanted: number[] | undefined): number[] {
  const all = Array.from({ length: count }, (_, i) => i);
  if (!wanted) return all;
  const missing = wanted.filter((p) => p >= count);
  if (missing.length > 0)
    throw new NotFoundError(`topic "${topic}" has ${count} partitions, no partition ${missing.join(',')}`, 'fix the partition list', {
      options: ['partitions'],
    });
  return wanted;
}
