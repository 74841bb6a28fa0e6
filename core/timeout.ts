/** Waits for a promise up to `ms`, and resolves true when the time ran out first. */
export function withTimeout(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolveTimeout) => {
    timer = setTimeout(() => resolveTimeout(true), ms);
  });
  return Promise.race([promise.then(() => false), timeout]).finally(() => clearTimeout(timer));
}
