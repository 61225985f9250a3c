// @ts-check
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'sample-app/dist/', 'coverage/', '.cache/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
    },
  },
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs' } },
  {
    // The Nest 11 consumer app is a CommonJS app on purpose: it proves the package loads through require().
    files: ['test/package/consumers/**/*.js'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  { files: ['test/**'], languageOptions: { globals: globals.jest } },
  // The admin dashboard's modules run in the browser, not in Node.
  { files: ['lib/admin/dashboard/**/*.js'], languageOptions: { globals: globals.browser } },
  {
    // Drop-in compatibility: these signatures are @nestjs/throttler's (`req: Record<string, any>` and friends),
    // so subclasses written for it, such as its documented proxy guard, compile unchanged.
    files: ['lib/throttler/**', 'test/throttler/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  // Last: turns off the rules that only Prettier decides.
  prettier,
);
