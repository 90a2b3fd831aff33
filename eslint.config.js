import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'bin/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // A network's recorded state changes in one place: src/engine/transitions.ts writes every
    // network.transition record.
    files: ['src/**/*.ts', 'machines/**/*.ts'],
    ignores: ['src/engine/transitions.ts'],
    rules: {
      'no-restricted-syntax': ['error', {
        selector: "Property[key.name='type'][value.value='network.transition']",
        message: 'network.transition records are written only by recordTransition (src/engine/transitions.ts)',
      }],
    },
  },
);
