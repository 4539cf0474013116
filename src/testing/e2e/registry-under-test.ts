/** What every helper that starts a registry hands back: where it listens and how to stop it. */
export interface RunningRegistry {
  /** `http://127.0.0.1:PORT`, no trailing slash */
  readonly url: string;
  /** `127.0.0.1:PORT`, the form skopeo's `docker://` references use */
  readonly host: string;
  /** the storage folder, when the registry stores on the local filesystem */
  readonly rootdirectory?: string;
  /** the server's process id, when it runs as its own process */
  readonly pid?: number;
  close(): Promise<void>;
}

/** Starts a fresh, empty registry with deletes enabled. */
export type StartRegistry = () => Promise<RunningRegistry>;

export function hostOf(url: string): string {
  return new URL(url).host;
}
