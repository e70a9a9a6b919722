/**
 * Lane names back to the base names they were made from: the inverse of LaneNaming
 * (plan-names.ts) for one lane and its templates, for `kbak lane snapshot`. Each inverse is
 * checked by applying LaneNaming forwards again, so a name the templates cannot have
 * produced for this lane is refused (null), never guessed. Pure.
 */
import { subjectTopics, topicSubject } from '../model/subject-name';
import { GROUP_TEMPLATE_FLAG, LaneNaming, SUBJECT_TEMPLATE_FLAG, TOPIC_TEMPLATE_FLAG } from './plan-names';
import { invertTemplate } from './template';
import { validateTopicName } from './topic-name';

export interface NamingTemplates {
  topic: string;
  subject: string;
  group: string;
}

export class LaneBaseNames {
  private readonly forward: LaneNaming;

  constructor(
    readonly lane: string,
    private readonly templates: NamingTemplates,
  ) {
    this.forward = new LaneNaming({ lane, topicTemplate: templates.topic, subjectTemplate: templates.subject, groupTemplate: templates.group });
  }

  /** The base topic of lane topic `name`, or null. */
  topic(name: string): string | null {
    const base = invertTemplate(this.templates.topic, 'topic', TOPIC_TEMPLATE_FLAG, this.lane, name);
    if (base === null) return null;
    try {
      validateTopicName(base, 'base topic');
    } catch {
      return null;
    }
    return base;
  }

  /**
   * The base subject of lane subject `name`, given the lane topics being snapshot (lane →
   * base): a TopicNameStrategy subject of one of them follows its topic back, any other
   * comes from the subject template. Null when LaneNaming would not map the answer to `name`.
   */
  subject(name: string, topics: ReadonlyMap<string, string>): string | null {
    const baseTopics = new Map<string, string>();
    for (const [laneTopic, base] of topics) baseTopics.set(base, laneTopic);
    let base: string | null = null;
    for (const { topic, part } of subjectTopics(name)) {
      const b = topics.get(topic);
      if (b !== undefined) base = topicSubject(b, part);
    }
    base ??= invertTemplate(this.templates.subject, 'subject', SUBJECT_TEMPLATE_FLAG, this.lane, name);
    if (base === null || base.length === 0) return null;
    return this.forward.subject(base, baseTopics) === name ? base : null;
  }

  /** The base group of lane group `name`, or null. */
  group(name: string): string | null {
    return invertTemplate(this.templates.group, 'group', GROUP_TEMPLATE_FLAG, this.lane, name);
  }
}
