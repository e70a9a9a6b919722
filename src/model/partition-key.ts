/** One map key per topic-partition. NUL never occurs in a topic name, so keys cannot collide. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
