import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.stack/**', '.stack-*/**', 'coverage/**', 'kbak-backups/**'] },
  js.configs.recommended,
  // The type-checked rules read the TypeScript program (tsconfig.json): unsafe `any`, an
  // `async` function that never awaits, enums compared with plain numbers, floating promises.
  ...tseslint.configs.recommendedTypeChecked,
  { languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } } },
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Tests read what kbak printed (JSON.parse gives `any`) and reach into kafkajs internals
    // (no typings): typing each of those values would add casts that check nothing, so the
    // no-unsafe-* rules are off here, not in src/. Their fakes implement async interfaces
    // (stores, adapters, producers) with `async` methods that need no await: `async` is what
    // turns their throws into rejections, as the real implementations do.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/require-await': 'off',
    },
  },
);
