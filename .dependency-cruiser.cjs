/**
 * kbak's import rules (README "Layout"), checked by `npm run check:cycles` in CI:
 *
 * - no import cycle between files of src/;
 * - the top-level parts of src/ (folders, and the files directly in src/, each a layer of
 *   its own) form the layers below, bottom first: a part imports only parts of lower
 *   layers, never one of its own layer or above. So no cycle between folders either;
 * - inside src/kafka the same, for its own layers (src/kafka/README.md);
 * - only src/kafka/transport loads kafkajs, and nothing in src/ loads test code.
 *
 * Only value imports count: the check reads the code as TypeScript compiles it
 * (tsPreCompilationDeps false), so `import type` and imports used only as types are gone.
 * When a rule fails, move the code to where it belongs (a shared pure function into the
 * lower layer) rather than hiding the import.
 */

/** Bottom first. Parts on one line are siblings: neither imports the other. */
const LAYERS = [
  ['src/errors.ts', 'src/version.ts'],
  ['src/model', 'src/util', 'src/output', 'src/config'],
  ['src/segment', 'src/schema', 'src/remap', 'src/store'],
  ['src/backup', 'src/kafka'],
  ['src/lane', 'src/mask'],
  ['src/dump', 'src/restore'],
  ['src/recover'],
  ['src/api.ts'],
  ['src/cli'],
  ['src/index.ts'],
];

/** src/kafka's own layers, bottom first (the whole folder is one layer above). */
const KAFKA_LAYERS = [
  ['src/kafka/protocol'],
  ['src/kafka/adapter.ts'],
  ['src/kafka/transport'],
  ['src/kafka/client'],
  ['src/kafka/kafkajs-adapter.ts', 'src/kafka/memory.ts'],
  ['src/kafka/index.ts'],
];

const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** A folder matches everything under it, a file itself. */
const pattern = (part) => (part.endsWith('.ts') ? `^${escapeRegExp(part)}$` : `^${escapeRegExp(part)}/`);

/** For each part: no import of a sibling or of a part of a higher layer. */
function layerRules(name, layers) {
  return layers.flatMap((layer, i) =>
    layer.flatMap((part) => {
      const above = layers
        .slice(i)
        .flat()
        .filter((p) => p !== part);
      if (above.length === 0) return []; // the top: it may import everything
      return {
        name,
        comment: `${part} is in layer ${i + 1} of ${layers.length} (bottom first): it may import only lower layers (${
          layers
            .slice(0, i)
            .map((l) => l.join(', '))
            .join(' | ') || 'none'
        })`,
        severity: 'error',
        from: { path: pattern(part) },
        to: { path: above.map(pattern) },
      };
    }),
  );
}

const allParts = LAYERS.flat().map(pattern);

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'Files of src/ import each other (a cycle): move the shared code into the lower of the two.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...layerRules('layers', LAYERS),
    ...layerRules('kafka-layers', KAFKA_LAYERS),
    {
      name: 'layer-unknown',
      comment: 'Every part of src/ has a place in LAYERS (.dependency-cruiser.cjs): add the new one there.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^src/', pathNot: allParts },
    },
    {
      name: 'layer-unknown',
      comment: 'Every part of src/ has a place in LAYERS (.dependency-cruiser.cjs): add the new one there.',
      severity: 'error',
      from: { path: '^src/', pathNot: allParts },
      to: { path: '^src/' },
    },
    {
      name: 'kafkajs-outside-transport',
      comment: 'Only src/kafka/transport loads kafkajs (its private copy).',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/kafka/transport/' },
      to: { path: '^node_modules/kafkajs/' },
    },
    {
      name: 'kafkajs-outside-kafka',
      comment: 'Nothing outside src/kafka reaches the kafkajs door (src/kafka/transport): it speaks KafkaAdapter.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/kafka/' },
      to: { path: '^src/kafka/transport/' },
    },
    {
      name: 'test-code-in-src',
      comment: 'The product never loads test code (test-only patches and fixtures live in test/support).',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    tsPreCompilationDeps: false,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
  },
};
