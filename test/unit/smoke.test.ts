import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';

describe('smoke', () => {
  it('main resolves', async () => {
    expect(typeof main).toBe('function');
  });
});
