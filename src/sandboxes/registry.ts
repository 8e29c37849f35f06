import type { AppContext } from '../context.ts';
import type { App } from '../http/route-kit.ts';
import { peachSandbox } from './peach/sandbox.ts';
import { payfastSandbox } from './payfast/sandbox.ts';
import type { SandboxModule } from './kit/kit.ts';

/** The built-in provider sandboxes, served under /sandbox/<name> in sandbox mode. One line per provider. */
const SANDBOXES: readonly SandboxModule[] = [peachSandbox, payfastSandbox];

export async function registerSandboxes(app: App, ctx: AppContext): Promise<void> {
  if (!ctx.config.sandbox) return;
  for (const sandbox of SANDBOXES) {
    await app.register(
      async (scope) => {
        // Provider-side pages and APIs: no payrail token, and not part of payrail's OpenAPI document.
        scope.addHook('onRoute', (route) => {
          route.config = { ...route.config, public: true, form: true, sensitivePath: true };
          route.schema = { ...route.schema, hide: true };
        });
        sandbox.routes(scope as App, ctx);
      },
      { prefix: `/sandbox/${sandbox.name}` },
    );
  }
}

export const sandboxNames = (): string[] => SANDBOXES.map((s) => s.name);
