#!/usr/bin/env node
// payrail's command line. The TypeScript sources run directly (tsx), so there is no build step to forget.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
