import { defineConfig } from 'vitest/config';

// Unit tests of the console's pure logic; the browser flow is e2e/console.mjs.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
  },
});
