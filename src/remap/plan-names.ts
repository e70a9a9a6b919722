import { subjectTopics, topicSubject } from '../model/subject-name';
import { SafetyError, UsageError } from '../errors';
import { validateLaneName } from './lane';
import { CompiledTemplate, DEFAULT_GROUP_TEMPLATE, DEFAULT_SUBJECT_TEMPLATE, DEFAULT_TOPIC_TEMPLATE, compileTemplate } from './template';
import { metricName, validateTopicName } from './topic-name';

export const TOPIC_TEMPLATE_FLAG = 'topicTemplate';
export const SUBJECT_TEMPLATE_FLAG = 'subjectTemplate';
export const GROUP_TEMPLATE_FLAG = 'groupTemplate';

/** kbak's own bound rather than a broker rule: it keeps lane group ids usable in tooling, logs and ACLs. */
export const MAX_GROUP_ID_LENGTH = 255;

export interface LaneNamingOptions {
  lane: string;
  topicTemplate?: string;
  subjectTemplate?: string;
  groupTemplate?: string;
}

const q = (s: string): string => JSON.stringify(s);

/**
 * Everything a restore needs to turn source names into lane names. The lane and the
 * templates are checked once at construction so a bad flag fails before any I/O.
 */
export class LaneNaming {
  readonly lane: string;
  private readonly renderTopic: CompiledTemplate;
  private readonly renderSubject: CompiledTemplate;
  private readonly renderGroup: CompiledTemplate;

  constructor(options: LaneNamingOptions) {
    this.lane = validateLaneName(options.lane);
    this.renderTopic = compileTemplate(options.topicTemplate ?? DEFAULT_TOPIC_TEMPLATE, 'topic', TOPIC_TEMPLATE_FLAG);
    this.renderSubject = compileTemplate(options.subjectTemplate ?? DEFAULT_SUBJECT_TEMPLATE, 'subject', SUBJECT_TEMPLATE_FLAG);
    this.renderGroup = compileTemplate(options.groupTemplate ?? DEFAULT_GROUP_TEMPLATE, 'group', GROUP_TEMPLATE_FLAG);
  }

  topic(sourceTopic: string): string {
    const name = this.renderTopic({ lane: this.lane, name: sourceTopic });
    return validateTopicName(name, `lane topic for ${q(sourceTopic)}`);
  }

  /** Source topic → lane topic, in the shape `subject()` expects. */
  topicMap(sourceTopics: Iterable<string>): Map<string, string> {
    const map = new Map<string, string>();
    for (const source of sourceTopics) map.set(source, this.topic(source));
    return map;
  }

  group(sourceGroup: string): string {
    const name = this.renderGroup({ lane: this.lane, name: sourceGroup });
    if (name.length === 0) {
      throw new UsageError(`lane group for ${q(sourceGroup)} is empty: check ${GROUP_TEMPLATE_FLAG}`, undefined, { options: ['groupTemplate'] });
    }
    if (name.length > MAX_GROUP_ID_LENGTH) {
      throw new UsageError(
        `lane group for ${q(sourceGroup)} is ${q(name)}, ${name.length} characters long: at most ${MAX_GROUP_ID_LENGTH} are allowed; use a shorter lane or ${GROUP_TEMPLATE_FLAG}`,
        undefined,
        { options: ['groupTemplate'] },
      );
    }
    return name;
  }

  /**
   * Subjects that follow TopicNameStrategy (`<topic>-key` / `<topic>-value`) for a topic
   * being restored follow that topic to its lane name, because lane clients using the
   * default strategy derive the subject from the lane topic and must find their schemas
   * there. Only an exact suffix match against a restored topic counts: topics may
   * themselves end in `-value` (topic `a-value` has subject `a-value-value`), and a
   * subject that merely looks similar (RecordNameStrategy `com.acme.Order`,
   * TopicRecordNameStrategy `orders-com.acme.Order`, referenced `common.proto`, or a
   * subject of a topic not being restored) cannot be inferred reliably, so it gets the
   * subject template instead.
   */
  subject(sourceSubject: string, topicMap: ReadonlyMap<string, string>): string {
    if (sourceSubject.length === 0) {
      throw new UsageError(`source subject is empty: schema registry subjects need at least one character`);
    }
    for (const { topic, part } of subjectTopics(sourceSubject)) {
      const laneTopic = topicMap.get(topic);
      if (laneTopic !== undefined) return topicSubject(laneTopic, part);
    }
    return this.renderSubject({ lane: this.lane, name: sourceSubject });
  }

  /**
   * Source subject → lane subject for every subject being restored. The registry is
   * usually shared between the source and its lanes, so this refuses (SafetyError) when
   * a lane subject would be one of the source subjects (lane schemas would become new
   * versions of a production subject) or when two source subjects would land in one lane
   * subject. Both can only happen with custom templates, e.g. a topic template that does
   * not match the subject template.
   */
  subjectMap(sourceSubjects: Iterable<string>, topicMap: ReadonlyMap<string, string>): Map<string, string> {
    const sources = new Set(sourceSubjects);
    const map = new Map<string, string>();
    const owner = new Map<string, string>();
    for (const source of sources) {
      const lane = this.subject(source, topicMap);
      if (sources.has(lane)) {
        throw new SafetyError(
          `lane subject for ${q(source)} is ${q(lane)}, which is also a source subject being restored: change ${SUBJECT_TEMPLATE_FLAG}, ${TOPIC_TEMPLATE_FLAG} or the lane name`,
          undefined,
          { options: ['topicTemplate', 'subjectTemplate'] },
        );
      }
      const other = owner.get(lane);
      if (other !== undefined) {
        throw new SafetyError(
          `source subjects ${q(other)} and ${q(source)} would both be restored into lane subject ${q(lane)}: change ${SUBJECT_TEMPLATE_FLAG} or ${TOPIC_TEMPLATE_FLAG} so they stay distinct`,
          undefined,
          { options: ['topicTemplate', 'subjectTemplate'] },
        );
      }
      owner.set(lane, source);
      map.set(source, lane);
    }
    return map;
  }

  /**
   * Refuses (SafetyError) a restore whose lane topics would touch source data:
   *  - a planned lane topic equals one of the selected source topics (e.g. template
   *    `{lane}{topic}`, lane `a`, topics `b` and `ab`: `b` would be written into `ab`).
   *    The selection is checked whether or not it still exists in the cluster, which is
   *    stricter than checking only `allSourceTopicsInCluster`;
   *  - two selected source topics map to the same lane topic.
   * A lane topic that equals an existing cluster topic outside the selection is allowed:
   * it is normally this lane's topic from an earlier restore, and by name alone it cannot
   * be told apart from an unrelated topic that happens to match (only templates that glue
   * `{lane}` directly onto `{topic}` make that possible, so prefer a separator).
   *
   * Returns one-line warnings for lane topics that differ only by '.' vs '_' from an
   * existing cluster topic or from another lane topic: metrics would clash and brokers
   * refuse to create such a topic. They are warnings because the caller knows whether
   * the topic will be created or already exists.
   */
  assertNoCollisions(sourceTopics: string[], allSourceTopicsInCluster: string[]): string[] {
    const selected = new Set(sourceTopics);
    const owner = new Map<string, string>();
    for (const source of selected) {
      const lane = this.topic(source);
      if (selected.has(lane)) {
        throw new SafetyError(
          `lane topic for ${q(source)} is ${q(lane)}, which is also a source topic being restored: change ${TOPIC_TEMPLATE_FLAG} or the lane name`,
          undefined,
          { options: ['topicTemplate'] },
        );
      }
      const other = owner.get(lane);
      if (other !== undefined) {
        throw new SafetyError(
          `source topics ${q(other)} and ${q(source)} would both be restored into lane topic ${q(lane)}: change ${TOPIC_TEMPLATE_FLAG} so they stay distinct`,
          undefined,
          { options: ['topicTemplate'] },
        );
      }
      owner.set(lane, source);
    }

    const byMetric = new Map<string, Set<string>>();
    for (const name of [...allSourceTopicsInCluster, ...owner.keys()]) {
      const key = metricName(name);
      let names = byMetric.get(key);
      if (!names) byMetric.set(key, (names = new Set()));
      names.add(name);
    }
    const warnings: string[] = [];
    for (const lane of owner.keys()) {
      for (const other of byMetric.get(metricName(lane)) ?? []) {
        // A pair of lane topics is reported once, not once from each side.
        if (other === lane || (owner.has(other) && other < lane)) continue;
        warnings.push(`lane topic ${q(lane)} differs from topic ${q(other)} only by '.' vs '_': their metrics would clash and Kafka may refuse to create it`);
      }
    }
    return warnings;
  }
}
