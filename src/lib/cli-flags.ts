/**
 * The `--name value` (or `--name=value`) flags of a command, each at most once. Anything else is a usage
 * error, said in one line: a flag the command does not take, one given twice (which of the two was meant
 * is not guessed), one without its value, or a stray word.
 */
export function parseFlags<N extends string>(args: readonly string[], names: readonly N[]): { flags: Partial<Record<N, string>> } | { error: string } {
  const flags: Partial<Record<N, string>> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.indexOf('=');
    const name = (eq === -1 ? arg : arg.slice(0, eq)) as N;
    if (!arg.startsWith('--') || !names.includes(name)) return { error: `${arg.startsWith('--') ? 'Unknown option' : 'Unexpected argument'} "${eq === -1 ? arg : name}".` };
    if (flags[name] !== undefined) return { error: `${name} is given twice.` };
    const value = eq === -1 ? args[++i] : arg.slice(eq + 1);
    if (value === undefined || value === '' || (eq === -1 && value.startsWith('--'))) return { error: `${name} needs a value.` };
    flags[name] = value;
  }
  return { flags };
}
