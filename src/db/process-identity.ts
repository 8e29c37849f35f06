import { readFileSync } from 'node:fs';

/**
 * Who a process is beyond its pid, which the system hands out again once the process is gone: its start
 * time (field 22 of /proc/<pid>/stat, in clock ticks since boot) and the id of the boot it started in. Two
 * processes with the same pid, boot and start time are the same process.
 */
export interface ProcessIdentity {
  bootId: string;
  startTicks: number;
}

/** The identity of a running process, or null where /proc cannot tell (not Linux, or hidden). */
export function processIdentity(pid: number): ProcessIdentity | null {
  try {
    const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may itself hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const startTicks = Number(fields[22 - 3]);
    return bootId && Number.isSafeInteger(startTicks) ? { bootId, startTicks } : null;
  } catch {
    return null;
  }
}
