import type { App } from '../http/route-kit.ts';
import { registerBehaviourRoute, registerLedgerRoute, resumeNotifications, stopNotifications, type SandboxContext, type SandboxModule } from './kit/kit.ts';
import { debitsuccessSandbox } from './debitsuccess/sandbox.ts';
import { payfastSandbox } from './payfast/sandbox.ts';
import { peachSandbox } from './peach/sandbox.ts';
import { vodapaySandbox } from './vodapay/sandbox.ts';
import { vendorSandbox } from './vendor/sandbox.ts';

/**
 * The built-in provider sandboxes, served under /sandbox/<name> in sandbox mode (and alone by
 * `payrail sandbox`). Adding a provider's sandbox is its folder here and one line in this list.
 */
export const SANDBOXES: readonly SandboxModule[] = [peachSandbox, payfastSandbox, debitsuccessSandbox, vodapaySandbox, vendorSandbox];

/** Mounts every sandbox (and each of its other hosts) with its ledger and behaviour routes. */
export async function mountSandboxes(app: App, ctx: SandboxContext, sandboxes: readonly SandboxModule[] = SANDBOXES): Promise<void> {
  app.addHook('onClose', () => stopNotifications(ctx));
  // The providers' side outlives payrail's process in the real world: what they had not delivered, they still do.
  app.addHook('onReady', async () => {
    for (const sandbox of sandboxes) await resumeNotifications(ctx, sandbox.provider);
  });
  for (const sandbox of sandboxes) {
    const mounts: [string, (scope: App) => void][] = [
      [
        `/sandbox/${sandbox.name}`,
        (scope) => {
          sandbox.routes(scope, ctx);
          registerLedgerRoute(scope, ctx, sandbox.provider);
          if (sandbox.behaviour) registerBehaviourRoute(scope, ctx, sandbox.provider, sandbox.behaviour);
        },
      ],
      ...Object.entries(sandbox.hosts ?? {}).map(([host, routes]): [string, (scope: App) => void] => [`/sandbox/${sandbox.name}-${host}`, (scope) => routes(scope, ctx)]),
    ];
    for (const [prefix, register] of mounts) {
      await app.register(
        async (scope) => {
          // Provider-side pages and APIs: no payrail token, and not part of payrail's OpenAPI document.
          scope.addHook('onRoute', (route) => {
            route.config = { ...route.config, public: true, form: true, sensitivePath: true };
            route.schema = { ...route.schema, hide: true };
          });
          register(scope as App);
        },
        { prefix },
      );
    }
  }
}

/** In sandbox mode, payrail serves the sandboxes itself. */
export async function registerSandboxes(app: App, ctx: SandboxContext, sandboxes: readonly SandboxModule[] = SANDBOXES): Promise<void> {
  if (ctx.config.sandbox) await mountSandboxes(app, ctx, sandboxes);
}
