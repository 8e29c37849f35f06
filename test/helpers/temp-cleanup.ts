import { afterAll } from 'vitest';
import { removeTempDirs } from './temp.ts';

// Registered before a file's own hooks, so it runs after them (after hooks run in reverse): the processes a
// file started are stopped before their folders are removed.
afterAll(removeTempDirs);
