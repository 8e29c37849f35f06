import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.ts';
import { Secret } from './secret.ts';

/**
 * In sandbox mode a missing JWT secret or encryption key is generated once and kept in the data dir, so
 * demo tokens and stored provider tokens survive a restart. Outside sandbox mode config refuses to start
 * without them, so this never invents production secrets.
 */
export function withLocalSecrets(config: Config): Config {
  if (!config.sandbox) return config;
  const jwtSecret = config.jwt.secret ?? readOrCreate(config.dataDir, 'jwt-secret', () => randomBytes(32).toString('hex'));
  const encryptionKey = config.encryptionKey ?? readOrCreate(config.dataDir, 'encryption-key', () => randomBytes(32).toString('hex'));
  return { ...config, jwt: { ...config.jwt, secret: jwtSecret }, encryptionKey };
}

function readOrCreate(dir: string, name: string, make: () => string): Secret {
  const path = join(dir, name);
  try {
    return new Secret(readFileSync(path, 'utf8').trim());
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dir, { recursive: true });
  const value = make();
  try {
    writeFileSync(path, `${value}\n`, { mode: 0o600, flag: 'wx' });
    return new Secret(value);
  } catch (err) {
    // Another process created it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return new Secret(readFileSync(path, 'utf8').trim());
    throw err;
  }
}
