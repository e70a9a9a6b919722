// Three projects: unit tests are pure and fast; fuzz tests (test/fuzz) run fast-check
// properties against the parsers of untrusted bytes, FUZZ_RUNS inputs per property (a short
// run by default); integration tests talk to the real local stack (Kafka, schema registry,
// S3) started by scripts/stack/up.sh.
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.json' }];
module.exports = {
  projects: [
    {
      displayName: 'unit',
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
      transform: { '^.+\\.ts$': tsJest },
      testEnvironment: 'node',
    },
    {
      displayName: 'fuzz',
      testMatch: ['<rootDir>/test/fuzz/**/*.fuzz.test.ts'],
      transform: { '^.+\\.ts$': tsJest },
      testEnvironment: 'node',
      setupFilesAfterEnv: ['<rootDir>/test/fuzz/setup.ts'],
    },
    {
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      transform: { '^.+\\.ts$': tsJest },
      testEnvironment: 'node',
      setupFilesAfterEnv: ['<rootDir>/test/support/integration-setup.ts'],
    },
  ],
};
