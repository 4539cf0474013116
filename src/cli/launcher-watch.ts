/**
 * Stopping with the launcher under npm. `npx stowage serve` and `npm start` run stowage as the child of a
 * `sh -c` that npm spawns; npm forwards SIGTERM to that shell only, the shell dies, and stowage, orphaned,
 * would serve on with nobody to stop it. Node has no parent-death signal, so under npm (which sets
 * `npm_command`) stowage watches its parent process id: when the shell that npm started is gone, stowage
 * shuts down as if it had received SIGTERM. Started any other way (the global bin, systemd, a container,
 * `nohup … &`), an orphaned stowage keeps serving, as daemons are expected to.
 */

/** how often the parent is checked; the timer never keeps the process alive on its own */
const CHECK_EVERY_MS = 250;

export function isUnderNpm(env: NodeJS.ProcessEnv): boolean {
  return typeof env.npm_command === 'string' && env.npm_command !== '';
}

/** Calls `onOrphaned` once when the process that started this one has exited; returns a stop function. */
export function watchLauncher(onOrphaned: (launcherPid: number) => void): () => void {
  const launcherPid = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === launcherPid) return;
    clearInterval(timer);
    onOrphaned(launcherPid);
  }, CHECK_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
