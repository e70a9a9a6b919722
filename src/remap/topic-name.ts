import { UsageError } from '../errors';

/** Kafka's limit (Topic.MAX_NAME_LENGTH); longer names are rejected by the broker. */
export const MAX_TOPIC_NAME_LENGTH = 249;

const ILLEGAL_TOPIC_CHAR = /[^a-zA-Z0-9._-]/;

/**
 * Applies Kafka's own topic-name rules up front so a bad lane or template fails before
 * any topic is created, with `context` (e.g. `lane topic for "orders"`) saying which
 * name was being built. Returns the name unchanged when valid.
 */
export function validateTopicName(name: string, context: string): string {
  if (name.length === 0) {
    throw new UsageError(`${context} is empty: Kafka topic names need 1 to ${MAX_TOPIC_NAME_LENGTH} characters`);
  }
  if (name === '.' || name === '..') {
    throw new UsageError(`${context} is ${JSON.stringify(name)}: Kafka does not allow "." or ".." as a topic name`);
  }
  if (name.length > MAX_TOPIC_NAME_LENGTH) {
    throw new UsageError(
      `${context} is ${JSON.stringify(name)}, ${name.length} characters long: Kafka topic names allow at most ${MAX_TOPIC_NAME_LENGTH}; use a shorter lane or template`,
    );
  }
  const illegal = ILLEGAL_TOPIC_CHAR.exec(name);
  if (illegal) {
    throw new UsageError(
      `${context} is ${JSON.stringify(name)}, which contains ${JSON.stringify(illegal[0])}: Kafka topic names allow only letters, digits, '.', '_' and '-'`,
    );
  }
  return name;
}

/**
 * Kafka maps '.' to '_' in metric names, so two topics that differ only there would share
 * metrics; brokers refuse to create a topic that collides this way with an existing one.
 * Identical names are not a collision (they are the same topic) and return false.
 */
export function topicsCollide(a: string, b: string): boolean {
  return a !== b && a.length === b.length && metricName(a) === metricName(b);
}

/** The form Kafka uses in metric names, under which colliding topics become equal. */
export function metricName(topic: string): string {
  return topic.replace(/\./g, '_');
}
