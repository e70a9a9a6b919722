import { UsageError } from '../errors';

/**
 * Lane names arrive from Kubernetes/Istio labels and end up inside topic names, schema
 * subjects and consumer-group ids, so only the intersection of what all of those accept
 * is allowed: a DNS-label-like shape.
 */
const LANE_PATTERN = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/**
 * Kafka topic names stop at 249 characters; a short lane leaves the rest of that budget
 * for the source topic name and the template's own text.
 */
export const MAX_LANE_LENGTH = 40;

const LANE_RULE = `use lowercase letters, digits and '-', start and end with a letter or digit, at most ${MAX_LANE_LENGTH} characters`;

/** Returns the lane unchanged when valid; throws UsageError otherwise. */
export function validateLaneName(lane: string): string {
  if (lane.length > MAX_LANE_LENGTH) {
    throw new UsageError(`lane name ${JSON.stringify(lane)} is too long (${lane.length} characters): ${LANE_RULE}`);
  }
  if (!LANE_PATTERN.test(lane)) {
    throw new UsageError(`lane name ${JSON.stringify(lane)} is invalid: ${LANE_RULE}`);
  }
  return lane;
}
